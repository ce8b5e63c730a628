import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDatabase, createDatabase, type Database, type Executor } from '../src/db/client.ts';
import { migrateSchema } from '../src/db/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing/database.ts';
import * as fixture from './fixtures/schema.ts';

// drizzle-orm runs its queries unprepared through postgres.js (drizzle-orm#6096): parsed anew and sent in two
// round trips each time. createDatabase's client prepares them; pg_prepared_statements shows what the connection
// holds (one connection in the pool, so every query here runs on it).

let database: TestDatabase;
let db: Database<Record<string, unknown>>;

beforeAll(async () => {
  database = await createTestDatabase('dbclient');
  await migrateSchema({
    url: database.url,
    schema: 'platform_fixture',
    migrationsFolder: join(import.meta.dirname, 'fixtures/migrations'),
  });
  db = createDatabase({ url: database.url, poolSize: 1, applicationName: 'db-client-test' });
});

afterAll(async () => {
  await closeDatabase(db);
  await database?.drop();
});

const eventsOfOrder = (executor: Executor, orderId: string) =>
  executor.select().from(fixture.appliedEvents).where(eq(fixture.appliedEvents.orderId, orderId));

async function preparedStatements(executor: Executor): Promise<string[]> {
  const rows = await executor.execute<{ statement: string }>('select statement from pg_prepared_statements');
  return rows.map((row) => row.statement);
}

describe('createDatabase', () => {
  it("prepares drizzle's queries once per connection and runs them again by name", async () => {
    await db.insert(fixture.appliedEvents).values({ eventId: 'e1', orderId: 'o1', status: 1 });
    expect(await eventsOfOrder(db, 'o1')).toHaveLength(1);
    expect(await eventsOfOrder(db, 'o2')).toHaveLength(0);

    const statements = await preparedStatements(db);
    const selects = statements.filter((statement) => statement.includes('from "platform_fixture"."applied_events"'));
    expect(selects).toHaveLength(1);
    expect(
      statements.some((statement) => statement.startsWith('insert into "platform_fixture"."applied_events"')),
    ).toBe(true);
  });

  it('prepares the queries of a transaction and of a savepoint inside it too', async () => {
    const inTransaction = await db.transaction(async (tx) => {
      await tx.insert(fixture.appliedEvents).values({ eventId: 'e2', orderId: 'o3', status: 2 });
      const nested = await tx.transaction(async (savepoint) => {
        await savepoint.delete(fixture.appliedEvents).where(eq(fixture.appliedEvents.eventId, 'e2'));
        return preparedStatements(savepoint);
      });
      return { nested, rows: await eventsOfOrder(tx, 'o3') };
    });
    expect(inTransaction.rows).toHaveLength(0);
    expect(inTransaction.nested.some((statement) => statement.startsWith('delete from "platform_fixture"'))).toBe(true);
  });
});
