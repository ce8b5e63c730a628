import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maintenanceUrl, migrateSchema } from '../src/db/migrate.ts';
import { provisionServiceRole, type ServiceRole, serviceDatabaseUrl, serviceRole } from '../src/db/roles.ts';
import { createTestDatabase, type TestDatabase, testServerUrl } from '../src/testing/database.ts';

// Roles belong to the whole server, so every role here carries this run's random prefix (as TICKET_ROLE_PREFIX
// does for the init script's test) and is dropped at the end; the real service roles are never touched.
const run = promisify(execFile);
const migrationsFolder = join(import.meta.dirname, 'fixtures/migrations');
const schema = 'platform_fixture';
const prefix = `t${randomBytes(4).toString('hex')}_`;
const databases: TestDatabase[] = [];
const clients: postgres.Sql[] = [];

function connect(url: string): postgres.Sql {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  clients.push(client);
  return client;
}

async function newDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase('roles');
  databases.push(database);
  return database;
}

const roleNamed = (name: string): ServiceRole => ({ name: `${prefix}${name}` });

/** The SQLSTATE a statement fails with, or 'ok'. */
async function outcome(statement: Promise<unknown>): Promise<string> {
  try {
    await statement;
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

/** Who owns each relation, type and routine in the schema, by name. */
async function ownersIn(sql: postgres.Sql, namespace: string): Promise<Record<string, string>> {
  const rows = await sql<{ name: string; owner: string }[]>`
    select relname as name, pg_get_userbyid(relowner) as owner from pg_class where relnamespace = ${namespace}::regnamespace
    union all
    select typname, pg_get_userbyid(typowner) from pg_type
    where typnamespace = ${namespace}::regnamespace and typtype in ('e', 'd')
    union all
    select proname, pg_get_userbyid(proowner) from pg_proc where pronamespace = ${namespace}::regnamespace
    union all
    select 'schema ' || nspname, pg_get_userbyid(nspowner) from pg_namespace where nspname = ${namespace}`;
  return Object.fromEntries(rows.map((row) => [row.name, row.owner]));
}

afterAll(async () => {
  await Promise.all(clients.map((client) => client.end({ timeout: 5 })));
  await Promise.all(databases.map((database) => database.drop()));
  // Dropping the databases dropped the roles' objects and grants there, so the roles can go now.
  const admin = postgres(maintenanceUrl(testServerUrl()), { max: 1, onnotice: () => {} });
  try {
    const roles = await admin<
      { rolname: string }[]
    >`select rolname from pg_roles where starts_with(rolname, ${prefix})`;
    for (const { rolname } of roles) await admin`drop role ${admin(rolname)}`;
  } finally {
    await admin.end({ timeout: 5 });
  }
});

describe('provisionServiceRole (real Postgres)', () => {
  let database: TestDatabase;
  let admin: postgres.Sql;
  const role = roleNamed('provisioned');

  beforeAll(async () => {
    database = await newDatabase();
    admin = connect(database.url);
  });

  it('makes an unprivileged login role that owns the schema and may connect and create schemas, twice alike', async () => {
    await provisionServiceRole(admin, { schema: 'provisioned', role });
    const snapshot = async () => {
      const [attributes] = await admin`
        select rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolinherit from pg_roles where rolname = ${role.name}`;
      const [rights] = await admin`
        select has_database_privilege(${role.name}, current_database(), 'connect') as connect,
               has_database_privilege(${role.name}, current_database(), 'create') as create`;
      return { attributes, rights, owners: await ownersIn(admin, 'provisioned') };
    };
    const first = await snapshot();
    expect(first).toEqual({
      attributes: { rolcanlogin: true, rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolinherit: true },
      rights: { connect: true, create: true },
      owners: { 'schema provisioned': role.name },
    });
    await provisionServiceRole(admin, { schema: 'provisioned', role });
    expect(await snapshot()).toEqual(first);
  });

  it('sets the password when one is given', async () => {
    const withPassword = { ...roleNamed('with_password'), password: `it's-${randomBytes(8).toString('hex')}` };
    await provisionServiceRole(admin, { schema: 'with_password', role: withPassword });
    const [row] = await admin<{ secret: string | null }[]>`
      select rolpassword as secret from pg_authid where rolname = ${withPassword.name}`;
    expect(row?.secret).toMatch(/^SCRAM-SHA-256\$/);
  });

  it('takes back what a role that was made a superuser by hand no longer should have', async () => {
    const demoted = roleNamed('demoted');
    await provisionServiceRole(admin, { schema: 'demoted', role: demoted });
    await admin`alter role ${admin(demoted.name)} superuser createdb`;
    await provisionServiceRole(admin, { schema: 'demoted', role: demoted });
    const [row] = await admin`select rolsuper, rolcreatedb from pg_roles where rolname = ${demoted.name}`;
    expect(row).toEqual({ rolsuper: false, rolcreatedb: false });
  });

  it('refuses to provision the role it is logged in as, which it would lock out', async () => {
    const [{ user }] = (await admin`select session_user as user`) as unknown as [{ user: string }];
    await expect(provisionServiceRole(admin, { schema: 'own', role: { name: user } })).rejects.toThrow(
      /connection's own role/,
    );
    const [row] = await admin`select rolsuper from pg_roles where rolname = ${user}`;
    expect(row?.rolsuper).toBe(true);
  });

  it('hands a schema a superuser migrated before roles existed, and everything in it, over to the role', async () => {
    const legacy = await newDatabase();
    const owner = connect(legacy.url);
    await migrateSchema({ url: legacy.url, schema, migrationsFolder });
    // What a migration could also have made: a standalone sequence, a view, an enum, a domain, a function.
    await owner.unsafe(`
      create sequence ${schema}.numbers;
      create view ${schema}.recent as select id from ${schema}.outbox;
      create type ${schema}.mood as enum ('ok');
      create domain ${schema}.positive as int check (value > 0);
      create function ${schema}.answer() returns int language sql as 'select 42';`);
    const legacyRole = roleNamed('legacy');
    await migrateSchema({ url: legacy.url, schema, migrationsFolder, role: legacyRole });

    const owners = await ownersIn(owner, schema);
    expect(Object.keys(owners)).toEqual(
      expect.arrayContaining(['schema platform_fixture', '__drizzle_migrations', 'outbox', 'outbox_id_seq']),
    );
    expect(Object.keys(owners)).toEqual(expect.arrayContaining(['numbers', 'recent', 'mood', 'positive', 'answer']));
    expect(Object.entries(owners).filter(([, who]) => who !== legacyRole.name)).toEqual([]);
    const asRole = connect(serviceDatabaseUrl(legacy.url, legacyRole));
    expect(
      await outcome(
        asRole`insert into ${asRole(schema)}.applied_events (event_id, order_id, status) values ('e', 'o', 1)`,
      ),
    ).toBe('ok');
  });
});

describe('provisioning at the same time', () => {
  it('succeeds for every caller when many provision one new role at once, on one database and on several', async () => {
    const shared = { ...roleNamed('raced'), password: 'raced-password' };
    const several = await Promise.all([1, 2, 3, 4].map(() => newDatabase()));
    const one = several[0] as TestDatabase;
    // Separate connections, started together: the role is server-wide, so callers on different databases race on
    // the catalog (advisory locks are per database), and callers on one database queue on its advisory lock.
    const callers = [...several, one, one, one].map((database) => connect(database.url));
    const results = await Promise.allSettled(
      callers.map((client) => provisionServiceRole(client, { schema: 'raced', role: shared })),
    );
    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
    const admin = callers[0] as postgres.Sql;
    const [count] = await admin`select count(*)::int as n from pg_roles where rolname = ${shared.name}`;
    expect(count?.n).toBe(1);
    for (const database of several) {
      const client = connect(database.url);
      const [row] = await client`
        select pg_get_userbyid(nspowner) as owner, has_database_privilege(${shared.name}, current_database(), 'create') as create
        from pg_namespace where nspname = 'raced'`;
      expect(row).toEqual({ owner: shared.name, create: true });
    }
  });
});

describe('migrateSchema as a role (real Postgres)', () => {
  let database: TestDatabase;
  const role = roleNamed('migrator');

  beforeAll(async () => {
    database = await newDatabase();
  });

  it('provisions the role and leaves it the owner of everything the migrations made, however many replicas race', async () => {
    await Promise.all([1, 2, 3].map(() => migrateSchema({ url: database.url, schema, migrationsFolder, role })));
    const owners = await ownersIn(connect(database.url), schema);
    expect(Object.keys(owners)).toEqual(
      expect.arrayContaining(['schema platform_fixture', '__drizzle_migrations', 'outbox', 'processed_events']),
    );
    expect(Object.entries(owners).filter(([, who]) => who !== role.name)).toEqual([]);
  });

  it("lets the role use its schema through the URL serviceDatabaseUrl gives, and no other's", async () => {
    const other = roleNamed('other');
    await provisionServiceRole(connect(database.url), { schema: 'other', role: other });
    await connect(serviceDatabaseUrl(database.url, other))`create table other.secrets (id int)`;

    const asRole = connect(serviceDatabaseUrl(database.url, role));
    const [who] = await asRole`select current_user as user`;
    expect(who?.user).toBe(role.name);
    expect(await outcome(asRole`select count(*) from ${asRole(schema)}.outbox`)).toBe('ok');
    // 42501: insufficient_privilege (no USAGE on the other schema; nothing may be created in public).
    expect(await outcome(asRole`select count(*) from other.secrets`)).toBe('42501');
    expect(await outcome(asRole`create table public.intruder (id int)`)).toBe('42501');
  });
});

describe('ticket-migrate and ticket-database-url', () => {
  const cli = (name: string) => join(import.meta.dirname, '../src/cli', name);

  it('provisions the prefixed role from an owner URL, migrates as it, and prints the URL the service uses', async () => {
    const database = await newDatabase();
    const env = { ...process.env, DATABASE_URL: database.url, TICKET_ROLE_PREFIX: prefix };
    const migrated = await run(process.execPath, [cli('migrate.ts'), schema, migrationsFolder], { env });
    expect(migrated.stdout).toContain(`as role ${prefix}${schema}`);
    const printed = await run(process.execPath, [cli('database-url.ts'), schema], { env });
    expect(printed.stdout.trim()).toBe(serviceDatabaseUrl(database.url, { name: `${prefix}${schema}` }));
    const owners = await ownersIn(connect(database.url), schema);
    expect(Object.entries(owners).filter(([, who]) => who !== `${prefix}${schema}`)).toEqual([]);

    // Logged in as the service's role (production's migration job), both take the URL's user as the role.
    const roleEnv = { ...process.env, DATABASE_URL: printed.stdout.trim() };
    const again = await run(process.execPath, [cli('migrate.ts'), schema, migrationsFolder], { env: roleEnv });
    expect(again.stdout).not.toContain('as role');
    const same = await run(process.execPath, [cli('database-url.ts'), schema], { env: roleEnv });
    expect(same.stdout.trim()).toBe(printed.stdout.trim());
  });
});

describe('serviceRole and serviceDatabaseUrl', () => {
  it('names the role after the schema, behind TICKET_ROLE_PREFIX, with <SCHEMA>_DB_PASSWORD when set', () => {
    expect(serviceRole('booking', {})).toEqual({ name: 'booking' });
    expect(serviceRole('booking', { TICKET_ROLE_PREFIX: 'dev_', BOOKING_DB_PASSWORD: 's3cret' })).toEqual({
      name: 'dev_booking',
      password: 's3cret',
    });
  });

  it("keeps the server, database and options, and never passes the owner's password on", () => {
    const owner = 'postgres://postgres:owner-secret@db.example:6432/ticket?sslmode=require';
    expect(serviceDatabaseUrl(owner, { name: 'booking' })).toBe(
      'postgres://booking@db.example:6432/ticket?sslmode=require',
    );
    const url = new URL(serviceDatabaseUrl(owner, { name: 'booking', password: 'p@ss/word:1' }));
    expect([url.username, decodeURIComponent(url.password), url.host, url.pathname]).toEqual([
      'booking',
      'p@ss/word:1',
      'db.example:6432',
      '/ticket',
    ]);
  });
});
