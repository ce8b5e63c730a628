import { setTimeout as sleep } from 'node:timers/promises';
import postgres, { type Sql, type TransactionSql } from 'postgres';

// Each service connects as its own Postgres role, which owns the service's schema and has no USAGE on any other,
// so a bug or an injection in one service cannot read or change another's tables. Production makes these roles
// in infra/postgres/init/10-service-roles.sh; everything else (make up, make migrate, tests, benchmarks) makes
// them here, from an owner or superuser connection, with the same names and the same rights.

/** A service's login role, and its password where the server asks for one (none: trust or peer auth). */
export interface ServiceRole {
  name: string;
  password?: string | undefined;
}

/** The environment a role's name and password come from (the variables docker-compose.prod.yml uses). */
export type RoleEnvironment = Readonly<Record<string, string | undefined>>;

/** The variable holding a service's role password, e.g. BOOKING_DB_PASSWORD. */
export const rolePasswordVariable = (schema: string): string => `${schema.toUpperCase()}_DB_PASSWORD`;

/**
 * The role a service's schema belongs to: the schema's name, after TICKET_ROLE_PREFIX as the init script names
 * them (a test sharing a server with real roles sets a prefix), with <SCHEMA>_DB_PASSWORD when set.
 */
export function serviceRole(schema: string, env: RoleEnvironment = process.env): ServiceRole {
  const password = env[rolePasswordVariable(schema)];
  return { name: `${env.TICKET_ROLE_PREFIX ?? ''}${schema}`, ...(password ? { password } : {}) };
}

/** `url` (same server, database and options) logged in as `role` instead of whoever `url` names. */
export function serviceDatabaseUrl(url: string, role: ServiceRole): string {
  const parsed = new URL(url);
  parsed.username = role.name;
  // An owner's password must never leak into a service's URL: no role password, no password at all.
  parsed.password = role.password ?? '';
  return parsed.toString();
}

/**
 * True when `url` logs in as a role that can make other roles (a superuser, or CREATEROLE as on managed
 * Postgres): a connection to provision service roles from. A service's own role cannot.
 */
export async function canProvisionRoles(url: string): Promise<boolean> {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await client<{ admin: boolean }[]>`
      select rolsuper or rolcreaterole as admin from pg_roles where rolname = session_user`;
    return row?.admin ?? false;
  } finally {
    await client.end({ timeout: 5 });
  }
}

export interface ProvisionOptions {
  /** The service's schema, which the role comes to own. */
  schema: string;
  role: ServiceRole;
}

/**
 * Makes `role` a login role that owns `schema` in the current database and can do nothing else of note, from a
 * superuser or owner connection: creates the role when missing (setting its password when one is given), grants it
 * CONNECT and CREATE on the database (CREATE because `CREATE SCHEMA IF NOT EXISTS`, which drizzle's migrator and
 * the first migration run, needs it even when the schema exists), creates the schema AUTHORIZATION the role, or
 * hands an existing schema and everything in it over to the role (databases migrated by a superuser before roles
 * existed). Idempotent.
 *
 * Safe when run concurrently: an advisory lock serialises callers on one database, but roles belong to the whole
 * server and advisory locks to one database, so callers on different databases (parallel test files) can still
 * race on the role itself (CREATE ROLE, ALTER ROLE … PASSWORD); the loser of such a race runs again and finds
 * the role made.
 */
export async function provisionServiceRole(sql: Sql, options: ProvisionOptions): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await sql.begin((tx) => provisionOnce(tx, options));
      return;
    } catch (error) {
      if (attempt >= MAX_ATTEMPTS || !isCatalogRace(error)) throw error;
      // Jittered and growing, so that callers which collided once do not collide again in step.
      await sleep(Math.random() * 25 * 2 ** attempt);
    }
  }
}

const MAX_ATTEMPTS = 8;

/**
 * What a concurrent change to the same catalog row looks like: CREATE ROLE racing another (the unique index on
 * the role name, or the existence check), ALTER ROLE or GRANT on a row another transaction just changed.
 */
function isCatalogRace(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return (
    code === '23505' || // unique_violation
    code === '42710' || // duplicate_object
    code === '40P01' || // deadlock_detected
    (code === 'XX000' && message === 'tuple concurrently updated')
  );
}

async function provisionOnce(tx: TransactionSql, { schema, role }: ProvisionOptions): Promise<void> {
  await tx`select pg_advisory_xact_lock(hashtext('ticket:provision-service-roles'))`;
  await ensureLoginRole(tx, role);
  await grantMembershipToSessionUser(tx, role.name);
  await execute(
    tx,
    tx`select format('grant connect, create on database %I to %I', current_database(), ${role.name}::text) as statement`,
  );
  await ensureSchemaOwnedBy(tx, schema, role.name);
  await handOverObjects(tx, schema, role.name);
}

/** Runs the one statement `formatted` builds: DDL takes no bind parameters, so format() quotes names and literals. */
async function execute(tx: TransactionSql, formatted: Promise<{ statement: string }[]>): Promise<void> {
  for (const { statement } of await formatted) await tx.unsafe(statement);
}

async function ensureLoginRole(tx: TransactionSql, { name, password }: ServiceRole): Promise<void> {
  const [existing] = await tx<{ fit: boolean; session: boolean }[]>`
    select rolcanlogin and not (rolsuper or rolcreatedb or rolcreaterole) as fit, rolname = session_user as session
    from pg_roles where rolname = ${name}`;
  // Demoting the role we are logged in as would lock the operator out, not make a service role.
  if (existing?.session) throw new Error(`role ${name} is the connection's own role; connect as an owner instead`);
  if (!existing) {
    await execute(
      tx,
      tx`select format('create role %I login nosuperuser nocreatedb nocreaterole', ${name}::text) as statement`,
    );
  } else if (!existing.fit) {
    await execute(
      tx,
      tx`select format('alter role %I login nosuperuser nocreatedb nocreaterole', ${name}::text) as statement`,
    );
  }
  if (password !== undefined) {
    await execute(tx, tx`select format('alter role %I password %L', ${name}::text, ${password}::text) as statement`);
  }
}

/**
 * An owner that is not a superuser (CREATEROLE on managed Postgres) may hand objects to a role and SET ROLE to it
 * only as a member of it.
 */
async function grantMembershipToSessionUser(tx: TransactionSql, name: string): Promise<void> {
  const [row] = await tx<{ needed: boolean }[]>`
    select not rolsuper and not pg_has_role(session_user, ${name}, 'member') as needed
    from pg_roles where rolname = session_user`;
  if (row?.needed) await execute(tx, tx`select format('grant %I to session_user', ${name}::text) as statement`);
}

async function ensureSchemaOwnedBy(tx: TransactionSql, schema: string, role: string): Promise<void> {
  const [existing] = await tx<{ owner: string }[]>`
    select pg_get_userbyid(nspowner) as owner from pg_namespace where nspname = ${schema}`;
  if (!existing) {
    await execute(
      tx,
      tx`select format('create schema %I authorization %I', ${schema}::text, ${role}::text) as statement`,
    );
  } else if (existing.owner !== role) {
    await execute(tx, tx`select format('alter schema %I owner to %I', ${schema}::text, ${role}::text) as statement`);
  }
}

/**
 * Hands every object in `schema` that someone else owns to `role`: tables, views and standalone sequences;
 * standalone types (enums, domains, ranges, composites); functions and procedures. Indexes, row types and the
 * sequences behind serial and identity columns follow their table.
 */
async function handOverObjects(tx: TransactionSql, schema: string, role: string): Promise<void> {
  const statements = await tx<{ statement: string }[]>`
    select format('alter %s %I.%I owner to %I',
      case c.relkind when 'v' then 'view' when 'm' then 'materialized view' when 'S' then 'sequence'
        when 'f' then 'foreign table' else 'table' end,
      ${schema}::text, c.relname, ${role}::text) as statement
    from pg_class c
    where c.relnamespace = ${schema}::regnamespace and c.relkind in ('r', 'p', 'f', 'v', 'm', 'S')
      and c.relowner <> ${role}::regrole
      and not (c.relkind = 'S' and exists (
        select from pg_depend d
        where d.classid = 'pg_class'::regclass and d.objid = c.oid
          and d.refclassid = 'pg_class'::regclass and d.deptype in ('a', 'i')))
    union all
    select format('alter type %I.%I owner to %I', ${schema}::text, t.typname, ${role}::text)
    from pg_type t
    where t.typnamespace = ${schema}::regnamespace and t.typowner <> ${role}::regrole
      and (t.typtype in ('e', 'd', 'r')
        or (t.typtype = 'c' and (select relkind from pg_class where oid = t.typrelid) = 'c'))
    union all
    select format('alter routine %I.%I(%s) owner to %I',
      ${schema}::text, p.proname, pg_get_function_identity_arguments(p.oid), ${role}::text)
    from pg_proc p
    where p.pronamespace = ${schema}::regnamespace and p.proowner <> ${role}::regrole`;
  for (const { statement } of statements) await tx.unsafe(statement);
}
