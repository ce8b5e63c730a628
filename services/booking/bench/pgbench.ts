import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The baseline: one transaction per hold, the way a service without group commit would do it. The
 * hot stock row stays locked from the UPDATE until COMMIT, across the INSERT's round trip, so holds on
 * one stock run one after another however many clients there are.
 *
 * `\gset` makes a client abort if the UPDATE finds no row (sold out), instead of inserting a hold that
 * has no seat; the stock is sized so that never happens. Order id and idempotency key are new each time.
 */
export const PER_REQUEST_HOLD_SCRIPT = `BEGIN;
UPDATE booking.stocks SET seats_booked = seats_booked + 1 WHERE id = :stock AND seats_booked + 1 <= seats_total RETURNING seats_booked AS booked \\gset
INSERT INTO booking.bookings (stock_id, order_id, user_id, seats, idempotency_key, expires_at) VALUES (:stock, gen_random_uuid(), 'pgbench', 1, gen_random_uuid()::text, now() + interval '15 minutes');
COMMIT;
`;

export interface PgbenchOptions {
  pgbench: string;
  databaseUrl: string;
  stockId: string;
  clients: number;
  threads: number;
  seconds: number;
  /** Folder for the script file. */
  workDir: string;
}

export interface PgbenchResult {
  /** Transactions per second, without the initial connection time. */
  tps: number;
  transactions: number;
  /** Mean latency in ms, as pgbench reports it. */
  latencyAverageMs: number;
  failedTransactions: number;
  command: string;
}

export async function runPgbench(options: PgbenchOptions): Promise<PgbenchResult> {
  const script = join(options.workDir, 'per-request-hold.sql');
  await writeFile(script, PER_REQUEST_HOLD_SCRIPT);
  const args = [
    '-n', // no vacuum of pgbench's own tables: this schema is not pgbench's
    '-M',
    'prepared',
    '-c',
    String(options.clients),
    '-j',
    String(options.threads),
    '-T',
    String(options.seconds),
    '-D',
    `stock=${options.stockId}`,
    '-f',
    script,
    options.databaseUrl,
  ];
  const { stdout } = await run(options.pgbench, args, { maxBuffer: 16 * 1024 * 1024 });
  return { ...parsePgbenchOutput(stdout), command: `${options.pgbench} ${args.slice(0, -1).join(' ')} <database>` };
}

/** Reads pgbench's closing report (PostgreSQL 15's wording). */
export function parsePgbenchOutput(output: string): Omit<PgbenchResult, 'command'> {
  const number = (pattern: RegExp, what: string): number => {
    const match = pattern.exec(output);
    if (!match?.[1]) throw new Error(`pgbench printed no ${what}:\n${output}`);
    return Number(match[1]);
  };
  return {
    tps: number(/^tps = ([\d.]+)/m, 'tps'),
    transactions: number(/^number of transactions actually processed: (\d+)/m, 'transaction count'),
    latencyAverageMs: number(/^latency average = ([\d.]+) ms/m, 'latency average'),
    failedTransactions: /^number of failed transactions: (\d+)/m.test(output)
      ? number(/^number of failed transactions: (\d+)/m, 'failed transactions')
      : 0,
  };
}
