/**
 * `make bench-sweep`: the expiry sweep's cost against the live holds it must not look at. A fresh database holds
 * BENCH_LIVE_HOLDS live holds (expiring in an hour) and BENCH_LAPSED_HOLDS lapsed ones, spread over 1,000 stocks;
 * booking's own sweep (releaseLapsedHolds, the job's body) releases the lapsed ones, timed. Then the live holds are
 * multiplied by BENCH_LIVE_FACTOR, a new set of lapsed holds is written, and the sweep runs again: the releases per
 * second must not fall with the live holds (the sweep reads only the lapsed ones, through the partial expiry index).
 */
import { performance } from 'node:perf_hooks';
import { closeDatabase, createDatabase, createLogger } from '@ticket/platform';
import postgres from 'postgres';
import { releaseLapsedHolds } from '../src/app/release-lapsed-holds.ts';
import { BOOKING_SCHEMA } from '../src/service.ts';
import { createBenchDatabase } from './database.ts';

const STOCKS = 1_000;
/** Rows written per INSERT … SELECT, so that one statement never builds a 10-million-row transaction. */
const INSERT_CHUNK = 500_000;

interface SweepConfig {
  live: number;
  lapsed: number;
  factor: number;
  batchSize: number;
}

function loadConfig(env: NodeJS.ProcessEnv = process.env): SweepConfig {
  const read = (name: string, fallback: number): number => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isInteger(value) || value <= 0) throw new Error(`${name}: a positive integer, got "${env[name]}"`);
    return value;
  };
  return {
    live: read('BENCH_LIVE_HOLDS', 1_000_000),
    lapsed: read('BENCH_LAPSED_HOLDS', 100_000),
    factor: read('BENCH_LIVE_FACTOR', 10),
    batchSize: read('EXPIRY_BATCH_SIZE', 1_000),
  };
}

interface SweepRun {
  live: number;
  lapsed: number;
  released: number;
  seconds: number;
  /** Lapsed holds left afterwards, and stocks whose count disagrees with their live holds: both must be 0. */
  leftLapsed: number;
  drifted: number;
}

async function main(): Promise<number> {
  const config = loadConfig();
  const database = await createBenchDatabase();
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  const db = createDatabase({ url: database.roleUrl(BOOKING_SCHEMA), applicationName: 'bench-sweep', poolSize: 4 });
  const context = {
    db,
    config: {
      HOLD_TTL_SECONDS: 600,
      EXPIRY_BATCH_SIZE: config.batchSize,
      HOLD_BATCH_MAX: 256,
      BOOKING_EVENTS_TOPIC: 'bench.bookings-expired',
    },
    logger: createLogger({ name: 'bench-sweep', level: 'silent' }),
    eventsCommitted: () => {},
  };
  try {
    await createStocks(sql);
    const runs: SweepRun[] = [];
    let live = 0;
    for (const target of [config.live, config.live * config.factor]) {
      progress(`writing ${target - live} live holds (${target} in all) and ${config.lapsed} lapsed`);
      await insertHolds(sql, live, target - live, '1 hour');
      live = target;
      await insertHolds(sql, 0, config.lapsed, '-1 minute', `lapsed-${runs.length}`);
      await syncSeatsBooked(sql);
      await sql`vacuum analyze booking.bookings`;
      progress('sweeping');
      const started = performance.now();
      const released = await releaseLapsedHolds(context);
      const seconds = (performance.now() - started) / 1_000;
      runs.push({ live, lapsed: config.lapsed, released, seconds, ...(await check(sql)) });
    }
    console.log(formatSummary(config, runs));
    return runs.every((run) => run.released === run.lapsed && run.leftLapsed === 0 && run.drifted === 0) ? 0 : 1;
  } finally {
    await closeDatabase(db);
    await sql.end({ timeout: 5 });
    await database.drop();
  }
}

async function createStocks(sql: postgres.Sql): Promise<void> {
  await sql`
    insert into booking.stocks (event_id, ticket_type_id, seats_total)
    select gen_random_uuid(), gen_random_uuid(), 2000000000 from generate_series(1, ${STOCKS}::int)`;
}

/** `count` holds of one seat each, one order each, round-robin over the stocks, expiring `expiresIn` from now. */
async function insertHolds(sql: postgres.Sql, from: number, count: number, expiresIn: string, tag = 'live') {
  for (let offset = 0; offset < count; offset += INSERT_CHUNK) {
    const chunk = Math.min(INSERT_CHUNK, count - offset);
    await sql`
      with stock as (select id, row_number() over (order by id) - 1 as n from booking.stocks)
      insert into booking.bookings (stock_id, order_id, user_id, seats, idempotency_key, expires_at)
      select stock.id, gen_random_uuid(), 'bench', 1, ${tag}::text || '-' || i, now() + ${expiresIn}::interval
      from generate_series(${from + offset}::bigint, ${from + offset + chunk - 1}::bigint) as i
      join stock on stock.n = i % ${STOCKS}::bigint`;
    progress(`  ${offset + chunk} of ${count}`);
  }
}

/** Seats of each stock's HELD and SOLD bookings, in one pass over the bookings (not one per stock). */
const LIVE_SEATS_PER_STOCK = `
  select stock_id, sum(seats) as seats from booking.bookings where status in ('HELD', 'SOLD') group by stock_id`;

/** Each stock's count of booked seats, as the holds written behind booking's back make it. */
async function syncSeatsBooked(sql: postgres.Sql): Promise<void> {
  await sql.unsafe(`
    update booking.stocks s set seats_booked = live.seats
    from (${LIVE_SEATS_PER_STOCK}) live where live.stock_id = s.id`);
}

async function check(sql: postgres.Sql): Promise<{ leftLapsed: number; drifted: number }> {
  const [lapsed] = await sql<{ n: number }[]>`
    select count(*)::int as n from booking.bookings where status = 'HELD' and expires_at <= now()`;
  const [drifted] = await sql.unsafe<{ n: number }[]>(`
    select count(*)::int as n from booking.stocks s left join (${LIVE_SEATS_PER_STOCK}) live on live.stock_id = s.id
    where s.seats_booked <> coalesce(live.seats, 0)`);
  return { leftLapsed: lapsed?.n ?? -1, drifted: drifted?.n ?? -1 };
}

function formatSummary(config: SweepConfig, runs: readonly SweepRun[]): string {
  const rule = '='.repeat(96);
  const rate = (run: SweepRun) => run.released / run.seconds;
  const [small, large] = runs;
  const lines = runs.map(
    (run) =>
      `  ${String(run.live.toLocaleString('en')).padStart(12)} live  ${run.released.toLocaleString('en').padStart(9)} released in ${run.seconds.toFixed(2).padStart(6)} s  = ${Math.round(rate(run)).toLocaleString('en').padStart(7)} holds/s   left lapsed ${run.leftLapsed}, stocks drifted ${run.drifted}`,
  );
  const ratio = small && large ? rate(large) / rate(small) : Number.NaN;
  return [
    rule,
    `  expiry sweep: ${config.lapsed.toLocaleString('en')} lapsed holds among live ones on ${STOCKS} stocks, batches of ${config.batchSize} holds`,
    rule,
    ...lines,
    '',
    `  releases/s with ${config.factor}x the live holds: ${ratio.toFixed(2)}x (about 1: the sweep does not read live holds)`,
    rule,
  ].join('\n');
}

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error('bench-sweep failed:', error);
  process.exitCode = 1;
}
