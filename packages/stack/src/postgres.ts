import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { accepts, awaitFile, isAlive, logTail, type ManagedProcess, runningPid, startDetached } from './processes.ts';

const run = promisify(execFile);

const LOCAL_URL = 'postgres://postgres@127.0.0.1:5432/ticket';
const EMBEDDED_PORT = 54329;

export interface PostgresOptions {
  stateDir: string;
  env: NodeJS.ProcessEnv;
  repoRoot: string;
}

export const embeddedPostgresProcess = (options: Pick<PostgresOptions, 'stateDir'>): ManagedProcess => ({
  name: 'postgres',
  pidFile: join(options.stateDir, 'postgres.pid'),
  logFile: join(options.stateDir, 'logs', 'postgres.log'),
});

/**
 * The database the services use: DATABASE_URL when set; else the local server on 127.0.0.1:5432 (started
 * first if it is installed but stopped); else an embedded PostgreSQL from the npm registry, kept in the
 * state directory. STACK_POSTGRES=embedded asks for the embedded one outright.
 */
export async function ensurePostgres(options: PostgresOptions, say: (line: string) => void): Promise<string> {
  if (options.env.DATABASE_URL) return options.env.DATABASE_URL;
  if (options.env.STACK_POSTGRES !== 'embedded') {
    if (await accepts(5432)) return LOCAL_URL;
    const started = await run('bash', [join(options.repoRoot, 'scripts/ensure-postgres.sh')], {
      env: process.env,
    }).then(
      () => true,
      () => false,
    );
    if (started) {
      say('postgres: started the local server');
      return LOCAL_URL;
    }
  }
  return startEmbeddedPostgres(options, say);
}

async function startEmbeddedPostgres(options: PostgresOptions, say: (line: string) => void): Promise<string> {
  const port = Number(options.env.EMBEDDED_POSTGRES_PORT ?? EMBEDDED_PORT);
  const managed = embeddedPostgresProcess(options);
  const readyFile = join(options.stateDir, 'postgres.ready');
  if ((await runningPid(managed)) === undefined) {
    await rm(readyFile, { force: true });
    const pid = await startDetached(
      managed,
      process.execPath,
      [join(import.meta.dirname, 'embedded-postgres.ts')],
      {
        ...process.env,
        PG_DATA_DIR: join(options.stateDir, 'postgres'),
        PG_PORT: String(port),
        PG_READY_FILE: readyFile,
      },
      options.repoRoot,
    );
    try {
      await awaitFile(readyFile, () => isAlive(pid), 120_000);
    } catch (error) {
      throw new Error(`embedded PostgreSQL did not start: ${(error as Error).message}\n${await logTail(managed)}`);
    }
  }
  say(`postgres: embedded server on 127.0.0.1:${port} (data in ${join(options.stateDir, 'postgres')})`);
  return `postgres://postgres:postgres@127.0.0.1:${port}/ticket`;
}
