import { createServiceTestDatabase, type ServiceTestDatabase } from '@ticket/platform/testing';
import postgres from 'postgres';
import { BOOKING_MIGRATIONS, BOOKING_SCHEMA } from '../src/service.ts';
import { readProcessCpuSeconds } from './cpu.ts';

/**
 * A new database on the server `DATABASE_URL` names (default: the local one) with booking's role
 * provisioned and its migrations applied as that role, so a run never sees another run's rows and
 * booking runs with its production rights. The caller drops it.
 */
export function createBenchDatabase(): Promise<ServiceTestDatabase> {
  return createServiceTestDatabase('bench_booking', [{ schema: BOOKING_SCHEMA, migrationsFolder: BOOKING_MIGRATIONS }]);
}

export interface StockLedger {
  seatsTotal: number;
  seatsBooked: number;
  /** Seats of the stock's HELD and SOLD bookings: what `seats_booked` must equal. */
  heldOrSold: number;
  /** HELD and SOLD bookings (each hold of the bench is one seat). */
  liveBookings: number;
  /** Seats promised beyond the total, by either count. Must be 0. */
  oversold: number;
  /** seats_booked − seats of HELD/SOLD bookings. Must be 0. */
  drift: number;
}

/** The never-oversold invariant, read straight from the tables, not through the service. */
export async function readStockLedger(url: string, stockId: string): Promise<StockLedger> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ seats_total: number; seats_booked: number; held_or_sold: string; live: string }[]>`
      select s.seats_total, s.seats_booked,
        coalesce(sum(b.seats) filter (where b.status in ('HELD', 'SOLD')), 0) as held_or_sold,
        count(b.id) filter (where b.status in ('HELD', 'SOLD')) as live
      from booking.stocks s left join booking.bookings b on b.stock_id = s.id
      where s.id = ${stockId}
      group by s.id`;
    if (!row) throw new Error(`no stock ${stockId}`);
    const heldOrSold = Number(row.held_or_sold);
    return {
      seatsTotal: row.seats_total,
      seatsBooked: row.seats_booked,
      heldOrSold,
      liveBookings: Number(row.live),
      oversold: Math.max(0, Math.max(row.seats_booked, heldOrSold) - row.seats_total),
      drift: row.seats_booked - heldOrSold,
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export interface HoldTransactions {
  transactions: number;
  meanHolds: number;
  maxHolds: number;
}

/**
 * How well group commit batched: the holds of one transaction share `created_at` (now() is the
 * transaction's start time), so counting distinct values counts transactions.
 */
export async function readHoldTransactions(url: string, stockId: string): Promise<HoldTransactions> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ transactions: string; mean: string | null; max: number | null }[]>`
      select count(*) as transactions, avg(holds) as mean, max(holds) as max
      from (select count(*) as holds from booking.bookings where stock_id = ${stockId} group by created_at) as batches`;
    return {
      transactions: Number(row?.transactions ?? 0),
      meanHolds: Number(row?.mean ?? 0),
      maxHolds: Number(row?.max ?? 0),
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * CPU seconds used so far by each server process serving this database (booking's pool), by pid.
 * Postgres runs on this machine, so /proc has them.
 */
export async function readBackendCpu(url: string): Promise<Map<number, number>> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ pid: number }[]>`
      select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`;
    const cpu = new Map<number, number>();
    for (const { pid } of rows) cpu.set(pid, await readProcessCpuSeconds(pid).catch(() => 0));
    return cpu;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** CPU the backends used between two readings; a backend that started in between counts from zero. */
export function backendCpuBetween(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number {
  let seconds = 0;
  for (const [pid, used] of after) seconds += used - (before.get(pid) ?? 0);
  return seconds;
}

/** The server settings that decide what a commit costs: worth printing beside the figures. */
export async function readCommitSettings(url: string): Promise<string> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ name: string; setting: string }[]>`
      select name, setting from pg_settings
      where name in ('server_version', 'fsync', 'synchronous_commit', 'commit_delay')
      order by name`;
    return rows.map((row) => `${row.name}=${row.setting}`).join(' ');
  } finally {
    await sql.end({ timeout: 5 });
  }
}
