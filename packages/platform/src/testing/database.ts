import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { maintenanceUrl, migrateSchema, quoteIdentifier } from '../db/migrate.ts';
import { serviceDatabaseUrl, serviceRole } from '../db/roles.ts';

/** The server tests run against: `DATABASE_URL` when set, else the local one. */
export const testServerUrl = (): string => process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * A new, empty database on the test server, so each test file sees only its own rows and test
 * files run in parallel without touching each other.
 */
export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const server = testServerUrl();
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(maintenanceUrl(server), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${quoteIdentifier(name)}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const cleaner = postgres(maintenanceUrl(server), { max: 1, onnotice: () => {} });
      try {
        await cleaner.unsafe(`drop database if exists ${quoteIdentifier(name)} with (force)`);
      } finally {
        await cleaner.end({ timeout: 5 });
      }
    },
  };
}

/** A service's schema and the migrations that make it. */
export interface ServiceSchema {
  schema: string;
  migrationsFolder: string;
}

export interface ServiceTestDatabase extends TestDatabase {
  /**
   * The URL a service under test connects with: this database, logged in as the service's own role (as in
   * production), so a test fails where the service would reach beyond its schema. `url` stays the superuser's, for
   * checking invariants behind the API and across schemas.
   */
  roleUrl(schema: string): string;
}

/**
 * A new database on the test server with each service's role provisioned (the same server-wide roles as
 * `make up`'s, shared by every test database) and its migrations applied as that role.
 */
export async function createServiceTestDatabase(
  prefix: string,
  schemas: readonly ServiceSchema[],
): Promise<ServiceTestDatabase> {
  const database = await createTestDatabase(prefix);
  const urls = new Map<string, string>();
  try {
    for (const { schema, migrationsFolder } of schemas) {
      const role = serviceRole(schema);
      await migrateSchema({ url: database.url, schema, migrationsFolder, role });
      urls.set(schema, serviceDatabaseUrl(database.url, role));
    }
  } catch (error) {
    await database.drop();
    throw error;
  }
  return {
    ...database,
    roleUrl(schema) {
      const url = urls.get(schema);
      if (url === undefined) throw new Error(`no role provisioned for schema ${schema} in ${database.name}`);
      return url;
    },
  };
}

/**
 * Makes `database` unreachable for the services using it, as a Postgres outage would, while the server and the other
 * test files' databases carry on: new connections are refused and open ones are cut. `restore()` lets them in again.
 */
export async function cutOffDatabase(database: TestDatabase): Promise<{ restore(): Promise<void> }> {
  const admin = postgres(maintenanceUrl(database.url), { max: 1, onnotice: () => {} });
  const name = quoteIdentifier(database.name);
  try {
    await admin.unsafe(`alter database ${name} with allow_connections false`);
    await admin`select pg_terminate_backend(pid) from pg_stat_activity
                where datname = ${database.name} and pid <> pg_backend_pid()`;
  } catch (error) {
    await admin.end({ timeout: 5 });
    throw error;
  }
  return {
    async restore() {
      try {
        await admin.unsafe(`alter database ${name} with allow_connections true`);
      } finally {
        await admin.end({ timeout: 5 });
      }
    },
  };
}
