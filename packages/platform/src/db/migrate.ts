import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { provisionServiceRole, type ServiceRole } from './roles.ts';

export interface MigrationOptions {
  url: string;
  /** The service's own Postgres schema; its migration journal lives there too. */
  schema: string;
  migrationsFolder: string;
  /**
   * The service's role, when `url` logs in as an owner or superuser: the role is provisioned first (see
   * provisionServiceRole) and the migrations run as it, so it owns what they create. Without it they run as
   * `url`'s user, which is right where that user is the service's role already (production's migration jobs).
   */
  role?: ServiceRole | undefined;
}

/**
 * Applies a service's pending migrations, once, even when several replicas start together.
 *
 * Drizzle's migrator keeps one journal table and compares only with its newest row, so every
 * service keeps its journal in its own schema (`<schema>.__drizzle_migrations`); a shared journal
 * would make services skip each other's migrations. A session advisory lock serialises replicas.
 */
export async function migrateSchema({ url, schema, migrationsFolder, role }: MigrationOptions): Promise<void> {
  // One connection, so the advisory lock, SET ROLE and the migration share a session.
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await client`select pg_advisory_lock(hashtext(${`migrate:${schema}`}))`;
    if (role) {
      await provisionServiceRole(client, { schema, role });
      await client`set role ${client(role.name)}`;
    }
    await migrate(drizzle({ client }), {
      migrationsFolder,
      migrationsSchema: schema,
      migrationsTable: '__drizzle_migrations',
    });
  } finally {
    await client.end({ timeout: 5 });
  }
}

/** Creates the database named in `url` when it does not exist yet (local runs and tests). */
export async function ensureDatabaseExists(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = postgres(maintenanceUrl(url), { max: 1, onnotice: () => {} });
  try {
    const [existing] = await admin`select 1 from pg_database where datname = ${name}`;
    if (!existing) await admin.unsafe(`create database ${quoteIdentifier(name)}`);
  } catch (error) {
    // Two processes creating it at once: the loser sees duplicate_database, which is fine.
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/** The same server, the `postgres` maintenance database. */
export function maintenanceUrl(url: string): string {
  const parsed = new URL(url);
  parsed.pathname = '/postgres';
  return parsed.toString();
}

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
