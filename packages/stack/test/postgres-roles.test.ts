import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { maintenanceUrl } from '@ticket/platform';
import { createTestDatabase, type TestDatabase, testServerUrl } from '@ticket/platform/testing';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from './docker-files.ts';

// The Postgres container of docker-compose.{prod,dev}.yml runs infra/postgres/init/10-service-roles.sh on its first
// start, and each migration job then migrates as its service's role. No Docker here, so this runs the same script
// and the same migration command against the test server: roles carry a random prefix (TICKET_ROLE_PREFIX, made for
// this) because roles belong to the whole server, and the database is a fresh one.
const run = promisify(execFile);
const SCRIPT = join(REPO, 'infra/postgres/init/10-service-roles.sh');
const MIGRATE = join(REPO, 'packages/platform/src/cli/migrate.ts');
const SERVICES = ['event', 'booking', 'checkout', 'notification'] as const;
type ServiceName = (typeof SERVICES)[number];

const server = new URL(testServerUrl());
const prefix = `t${randomBytes(4).toString('hex')}_`;
const passwords = Object.fromEntries(SERVICES.map((name) => [name, randomBytes(16).toString('hex')])) as Record<
  ServiceName,
  string
>;

let database: TestDatabase;
const clients: postgres.Sql[] = [];

/** The environment the postgres image gives its init scripts, pointed at the test server instead of a socket. */
function initEnvironment(databaseName: string, rolePrefix: string, omit?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    PGHOST: server.hostname,
    PGPORT: server.port || '5432',
    POSTGRES_USER: decodeURIComponent(server.username) || 'postgres',
    POSTGRES_DB: databaseName,
    TICKET_ROLE_PREFIX: rolePrefix,
  };
  if (server.password) env.PGPASSWORD = decodeURIComponent(server.password);
  for (const name of SERVICES) env[`${name.toUpperCase()}_DB_PASSWORD`] = passwords[name];
  if (omit) delete env[omit];
  return env;
}

/** What the service's DATABASE_URL is in compose (postgres://<name>:<password>@postgres:5432/ticket), here. */
function roleUrl(role: string, password: string): string {
  const url = new URL(database.url);
  url.username = role;
  url.password = password;
  return url.toString();
}

const serviceUrl = (name: ServiceName): string => roleUrl(`${prefix}${name}`, passwords[name]);

function connect(url: string): postgres.Sql {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  clients.push(client);
  return client;
}

/** The migration job's command: `ticket-migrate <schema> src/db/migrations` in services/<name>. */
function migrateAs(name: ServiceName) {
  return run(process.execPath, [MIGRATE, name, 'src/db/migrations'], {
    cwd: join(REPO, 'services', name),
    env: { ...process.env, DATABASE_URL: serviceUrl(name) },
  });
}

/** The SQLSTATE a statement fails with, or 'ok'. */
async function outcome(statement: Promise<unknown>): Promise<string> {
  try {
    await statement;
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

async function dropRoles(rolePrefix: string): Promise<void> {
  const admin = connect(maintenanceUrl(testServerUrl()));
  const roles = await admin<
    { rolname: string }[]
  >`select rolname from pg_roles where starts_with(rolname, ${rolePrefix})`;
  for (const { rolname } of roles) await admin`drop role ${admin(rolname)}`;
}

beforeAll(async () => {
  database = await createTestDatabase('roles');
  await run('bash', [SCRIPT], { env: initEnvironment(database.name, prefix) });
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.end({ timeout: 5 })));
  clients.length = 0;
  await database?.drop();
  await dropRoles(prefix);
  await Promise.all(clients.map((client) => client.end({ timeout: 5 })));
});

describe('infra/postgres/init/10-service-roles.sh', () => {
  it('makes one login role per service, owner of its schema, and is safe to run again', async () => {
    await run('bash', [SCRIPT], { env: initEnvironment(database.name, prefix) });
    const admin = connect(database.url);
    const schemas = await admin<{ nspname: string; owner: string }[]>`
      select nspname, pg_get_userbyid(nspowner) as owner from pg_namespace
      where nspname in ${admin(SERVICES)} order by nspname`;
    expect(schemas).toEqual([...SERVICES].sort().map((name) => ({ nspname: name, owner: `${prefix}${name}` })));
    const roles = await admin<{ rolname: string; rolsuper: boolean; rolcreaterole: boolean; rolcreatedb: boolean }[]>`
      select rolname, rolsuper, rolcreaterole, rolcreatedb from pg_roles where starts_with(rolname, ${prefix})`;
    expect(roles).toHaveLength(SERVICES.length);
    for (const role of roles) expect(role).toMatchObject({ rolsuper: false, rolcreaterole: false, rolcreatedb: false });
  });

  it.each(SERVICES)('lets %s migrate its own schema as its own role, twice (the second time a no-op)', async (name) => {
    await migrateAs(name);
    await migrateAs(name);
    const admin = connect(database.url);
    const tables = await admin<{ tablename: string; tableowner: string }[]>`
      select tablename, tableowner from pg_tables where schemaname = ${name}`;
    expect(tables.map((table) => table.tablename)).toContain('__drizzle_migrations');
    expect(tables.length).toBeGreaterThan(2);
    for (const table of tables) expect(table.tableowner).toBe(`${prefix}${name}`);
  });

  it("keeps each role out of the other services' schemas and out of public", async () => {
    for (const name of SERVICES) await migrateAs(name);
    for (const name of SERVICES) {
      const client = connect(serviceUrl(name));
      expect(await outcome(client`select count(*) from ${client(name)}.__drizzle_migrations`), name).toBe('ok');
      expect(await outcome(client`create table public.intruder (id int)`), `${name} in public`).toBe('42501');
      for (const other of SERVICES.filter((candidate) => candidate !== name)) {
        const reads = await outcome(client`select count(*) from ${client(other)}.__drizzle_migrations`);
        const creates = await outcome(client`create table ${client(other)}.intruder (id int)`);
        // 42501: insufficient_privilege (no USAGE on the other schema).
        expect([reads, creates], `${name} → ${other}`).toEqual(['42501', '42501']);
      }
    }
  });

  it('takes CONNECT on the database away from everyone not granted it', async () => {
    const stranger = `${prefix}stranger`;
    const admin = connect(database.url);
    await admin`create role ${admin(stranger)} login`;
    const client = connect(roleUrl(stranger, 'unused'));
    expect(await outcome(client`select 1`)).toBe('42501');
  });

  it('refuses to run without every password, and then creates no role at all', async () => {
    const other = await createTestDatabase('roles_missing');
    const otherPrefix = `t${randomBytes(4).toString('hex')}_`;
    try {
      const failure = await run('bash', [SCRIPT], {
        env: initEnvironment(other.name, otherPrefix, 'CHECKOUT_DB_PASSWORD'),
      }).then(
        () => undefined,
        (error: { code?: number; stderr?: string }) => error,
      );
      expect(failure?.code).toBe(1);
      expect(failure?.stderr).toContain('CHECKOUT_DB_PASSWORD is not set');
      const admin = connect(maintenanceUrl(testServerUrl()));
      const [{ count }] =
        (await admin`select count(*)::int as count from pg_roles where starts_with(rolname, ${otherPrefix})`) as unknown as [
          { count: number },
        ];
      expect(count).toBe(0);
    } finally {
      await other.drop();
      await dropRoles(otherPrefix);
    }
  });
});
