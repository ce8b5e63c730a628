import type { PgDatabase } from 'drizzle-orm/pg-core';
import { drizzle, type PostgresJsDatabase, type PostgresJsQueryResultHKT } from 'drizzle-orm/postgres-js';
import postgres, { type Sql } from 'postgres';
import type { Logger } from '../logger.ts';

export type { PostgresJsDatabase };
export type Database<Schema extends Record<string, unknown> = Record<string, never>> = PostgresJsDatabase<Schema> & {
  $client: Sql;
};

/** A database or a transaction on it: the unit of work a repository writes through. */
// biome-ignore lint/suspicious/noExplicitAny: drizzle's transaction types differ only in their schema parameters.
export type Executor = PgDatabase<PostgresJsQueryResultHKT, any, any>;

export interface DatabaseOptions<Schema extends Record<string, unknown>> {
  url: string;
  /** Drizzle table definitions, for the relational query API. */
  schema?: Schema;
  poolSize?: number;
  /** Shown in pg_stat_activity, so an operator sees which service holds a connection. */
  applicationName: string;
  logger?: Logger;
}

export function createDatabase<Schema extends Record<string, unknown> = Record<string, never>>(
  options: DatabaseOptions<Schema>,
): Database<Schema> {
  const client = postgres(options.url, {
    max: options.poolSize ?? 10,
    connection: { application_name: options.applicationName },
    // Postgres NOTICEs (e.g. "schema already exists, skipping") are noise in service logs.
    onnotice: (notice) => options.logger?.debug({ notice: notice.message }, 'postgres notice'),
  });
  return drizzle({
    client: preparingStatements(client),
    ...(options.schema ? { schema: options.schema } : {}),
  }) as Database<Schema>;
}

/**
 * The client with every query drizzle sends made a named prepared statement. drizzle-orm runs its queries through
 * `unsafe(query, params, { prepare: false })` unless built with `.prepare(name)` (drizzle-orm#6096), so postgres.js
 * parses each one anew and, to learn its parameter types, sends it in two round trips (Parse/Describe, then
 * Bind/Execute), every time. Prepared, a statement is parsed once per connection and every later run is one round
 * trip: a PlaceOrder makes some 15 queries. The statements are few (drizzle binds every value as a
 * parameter, so the text varies only with the shape: columns, the length of an IN list or of a multi-row insert).
 * A transaction's and a savepoint's client are wrapped the same way, since drizzle runs their queries on them.
 */
export function preparingStatements<Client extends Sql>(client: Client): Client {
  return new Proxy(client, {
    get(target, property, receiver) {
      switch (property) {
        case 'unsafe':
          return (query: string, params?: unknown[], options?: Record<string, unknown>) =>
            // biome-ignore lint/suspicious/noExplicitAny: postgres.js types unsafe's parameters as its own serializable values.
            target.unsafe(query, params as any, { ...options, prepare: true });
        case 'begin':
        case 'savepoint':
          return (...args: unknown[]) => {
            // begin and savepoint take an optional mode or name, then the body that gets the inner client.
            const body = args.pop() as (inner: Sql) => unknown;
            const start = Reflect.get(target, property) as (...startArgs: unknown[]) => unknown;
            return start(...args, (inner: Sql) => body(preparingStatements(inner)));
          };
        default:
          return Reflect.get(target, property, receiver);
      }
    },
  });
}

export async function closeDatabase(db: Database<Record<string, unknown>>, timeoutSeconds = 5): Promise<void> {
  await db.$client.end({ timeout: timeoutSeconds });
}

/** True when Postgres answers; health checks use it. */
export async function isDatabaseReachable(db: Database<Record<string, unknown>>): Promise<boolean> {
  try {
    await db.$client`select 1`;
    return true;
  } catch {
    return false;
  }
}

/**
 * Health's view of Postgres (see createHealthMonitor): `select 1` through the service's own pool, so it reads as
 * down exactly when the service's queries cannot reach the database.
 */
export function databaseCheck(db: Database<Record<string, unknown>>): { name: string; reachable(): Promise<boolean> } {
  return { name: 'database', reachable: () => isDatabaseReachable(db) };
}
