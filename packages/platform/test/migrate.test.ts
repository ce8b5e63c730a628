import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateSchema } from '../src/db/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing/database.ts';

const migrationsFolder = join(import.meta.dirname, 'fixtures/migrations');
const schema = 'platform_fixture';

describe('migrateSchema (real Postgres)', () => {
  let database: TestDatabase;
  let sql: postgres.Sql;

  beforeAll(async () => {
    database = await createTestDatabase('migrate');
    sql = postgres(database.url, { max: 2, onnotice: () => {} });
  });
  afterAll(async () => {
    await sql?.end();
    await database?.drop();
  });

  const tablesOf = async () =>
    (
      await sql<{ table_name: string }[]>`
      select table_name from information_schema.tables where table_schema = ${schema} order by table_name`
    ).map((row) => row.table_name);
  const journal = () => sql`select hash, created_at from ${sql(schema)}.__drizzle_migrations order by id`;

  it('creates the schema, its tables and its own journal once, though replicas migrate at the same time', async () => {
    await Promise.all([1, 2, 3].map(() => migrateSchema({ url: database.url, schema, migrationsFolder })));
    expect(await tablesOf()).toEqual(['__drizzle_migrations', 'applied_events', 'outbox', 'processed_events']);
    expect(await journal()).toHaveLength(1);
  });

  it('is a no-op when applied again', async () => {
    const before = await journal();
    await migrateSchema({ url: database.url, schema, migrationsFolder });
    expect(await journal()).toEqual(before);
    expect(await tablesOf()).toHaveLength(4);
  });

  it('keeps no journal in the shared drizzle schema, so services never skip each other', async () => {
    const [shared] = await sql`select 1 from information_schema.schemata where schema_name = 'drizzle'`;
    expect(shared).toBeUndefined();
  });
});
