import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { BOOKING_SCHEMA } from '../src/service.ts';
import { createBenchDatabase } from './database.ts';
import { type PgbenchResult, runPgbench } from './pgbench.ts';

export interface BaselineOptions {
  clients: number;
  seconds: number;
  /** pgbench's binary; the server's own by default. */
  pgbench?: string;
}

/**
 * The per-request baseline on its own: pgbench's one transaction per hold (PER_REQUEST_HOLD_SCRIPT) on one stock of a
 * fresh database with booking's schema, as booking's role, dropped afterwards. What a system that takes one hot-row
 * transaction per buyer could do at most on this machine; other benches (the flash sale) divide by it.
 */
export async function measurePerRequestBaseline(options: BaselineOptions): Promise<PgbenchResult> {
  const database = await createBenchDatabase();
  const workDir = await mkdtemp(join(tmpdir(), 'bench-baseline-'));
  try {
    const roleUrl = database.roleUrl(BOOKING_SCHEMA);
    const sql = postgres(roleUrl, { max: 1, onnotice: () => {} });
    const [stock] = await sql<{ id: string }[]>`
      insert into booking.stocks (event_id, ticket_type_id, seats_total)
      values (gen_random_uuid(), gen_random_uuid(), 100000000) returning id`.finally(() => sql.end({ timeout: 5 }));
    if (!stock) throw new Error('no stock for the baseline');
    return await runPgbench({
      pgbench: options.pgbench ?? '/usr/bin/pgbench',
      databaseUrl: roleUrl,
      stockId: stock.id,
      clients: options.clients,
      threads: 2,
      seconds: options.seconds,
      workDir,
    });
  } finally {
    await database.drop();
    await rm(workDir, { recursive: true, force: true });
  }
}
