import { availableParallelism } from 'node:os';
import type { HoldTransactions, StockLedger } from './database.ts';
import { type HoldLoadResult, percentile } from './hold-load.ts';
import type { PgbenchResult } from './pgbench.ts';

export interface BenchFigures {
  seconds: number;
  concurrency: number;
  channels: number;
  postgres: string;
  kafka: string;
  grpc: HoldLoadResult;
  grpcLedger: StockLedger;
  grpcTransactions: HoldTransactions;
  /** VmHWM once booking answered, before any load, and at the end of the load. */
  bookingReadyPeakRssKiB: number;
  bookingPeakRssKiB: number;
  /** CPU seconds used during the load phase (warm-up included), and that phase's wall-clock length. */
  bookingCpuSeconds: number;
  loadCpuSeconds: number;
  /** CPU of the Postgres server processes serving booking's connections. */
  postgresCpuSeconds: number;
  loadWallSeconds: number;
  /** Busy share of all cores during the load phase: whoever used them (booking, load, Postgres, others). */
  machineBusyShare: number;
  pgbench: PgbenchResult;
  pgbenchLedger: StockLedger;
  targetRatio: number;
}

export interface Verdict {
  ratio: number;
  ratioMet: boolean;
  /** Reasons the run must fail: broken invariants, not slow figures. */
  problems: string[];
}

export function judge(figures: BenchFigures): Verdict {
  const ratio = holdsPerSecond(figures.grpc) / figures.pgbench.tps;
  const problems: string[] = [];
  for (const [name, ledger] of [
    ['gRPC', figures.grpcLedger],
    ['pgbench', figures.pgbenchLedger],
  ] as const) {
    if (ledger.oversold > 0) problems.push(`${name} stock oversold by ${ledger.oversold} seats`);
    if (ledger.drift !== 0)
      problems.push(`${name} stock: seats_booked differs from its held/sold bookings by ${ledger.drift}`);
  }
  // An acknowledged hold must be stored; more stored than acknowledged is only possible for calls that failed late.
  if (figures.grpc.acknowledged > figures.grpcLedger.liveBookings) {
    problems.push(
      `${figures.grpc.acknowledged - figures.grpcLedger.liveBookings} acknowledged holds are not in the database`,
    );
  }
  if (figures.grpc.holdsInWindow === 0) problems.push('no CreateBooking call succeeded in the measured window');
  return { ratio, ratioMet: ratio >= figures.targetRatio, problems };
}

export const holdsPerSecond = (result: HoldLoadResult): number => result.holdsInWindow / result.measuredSeconds;

/** The summary block: one aligned label column, figures first, then the checks and the verdict. */
export function formatSummary(figures: BenchFigures, verdict: Verdict): string {
  const { grpc, pgbench } = figures;
  const rows: [string, string][] = [
    ['setup', `${figures.concurrency} callers, ${figures.seconds} s, one hot stock, 1 seat per hold`],
    ['postgres', figures.postgres],
    ['kafka', figures.kafka],
    ['', ''],
    ['gRPC CreateBooking', `${grpc.measuredSeconds.toFixed(0)} s over ${figures.channels} channel(s), group commit`],
    ['  holds/s', rate(holdsPerSecond(grpc))],
    ['  latency p50', ms(percentile(grpc.latenciesMs, 0.5))],
    ['  latency p99', ms(percentile(grpc.latenciesMs, 0.99))],
    ['  failed calls', failures(grpc.failures)],
    ['  holds per transaction', transactions(figures.grpcTransactions)],
    [
      '  booking peak RSS',
      `${mib(figures.bookingPeakRssKiB)} (VmHWM; ${mib(figures.bookingReadyPeakRssKiB)} when ready)`,
    ],
    ['  booking CPU', cpu(figures.bookingCpuSeconds, figures)],
    ['  Postgres CPU', `${cpu(figures.postgresCpuSeconds, figures)} (booking's connections)`],
    ['  load generator CPU', cpu(figures.loadCpuSeconds, figures)],
    ['  machine busy', `${percent(figures.machineBusyShare)} of all cores (booking, load, Postgres and anyone else)`],
    ['', ''],
    ['pgbench per-request tx', `${figures.seconds} s, ${figures.concurrency} clients, UPDATE + INSERT per transaction`],
    ['  tps', rate(pgbench.tps)],
    ['  latency average', ms(pgbench.latencyAverageMs)],
    ['  failed transactions', String(pgbench.failedTransactions)],
    ['', ''],
    ['seats oversold', `${figures.grpcLedger.oversold + figures.pgbenchLedger.oversold} (must be 0)`],
    ['ledger drift', `${figures.grpcLedger.drift} gRPC, ${figures.pgbenchLedger.drift} pgbench (must be 0)`],
    ['gRPC stock', ledger(figures.grpcLedger)],
    ['  acknowledged holds', `${grpc.acknowledged} (warm-up and drain included; all must be stored)`],
    ['pgbench stock', ledger(figures.pgbenchLedger)],
    ['', ''],
    ['ratio', `${verdict.ratio.toFixed(2)}x gRPC holds/s over pgbench tps`],
    ['target', `>= ${figures.targetRatio}x: ${verdict.ratioMet ? 'met' : 'NOT met'}`],
    ['result', verdict.problems.length === 0 ? 'OK' : `FAILED: ${verdict.problems.join('; ')}`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = rows.map(([label, value]) => (label === '' ? '' : `  ${label.padEnd(width)}  ${value}`));
  const rule = '='.repeat(width + 60);
  return ['', rule, '  booking flash sale: CreateBooking on one hot stock', rule, ...lines, rule, ''].join('\n');
}

const rate = (perSecond: number): string => Math.round(perSecond).toLocaleString('en-US');
const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;
const percent = (share: number): string => `${(share * 100).toFixed(0)}%`;
const ms = (value: number): string => (Number.isNaN(value) ? 'n/a' : `${value.toFixed(2)} ms`);

function failures(byName: ReadonlyMap<string, number>): string {
  if (byName.size === 0) return '0';
  return [...byName].map(([name, count]) => `${count} ${name}`).join(', ');
}

function cpu(seconds: number, figures: BenchFigures): string {
  const wall = figures.loadWallSeconds;
  return `${seconds.toFixed(1)} s in ${wall.toFixed(1)} s of load = ${(seconds / wall).toFixed(2)} of ${availableParallelism()} cores`;
}

function transactions(stats: HoldTransactions): string {
  return `${stats.meanHolds.toFixed(1)} mean, ${stats.maxHolds} max (${stats.transactions} transactions, whole run)`;
}

function ledger(stock: StockLedger): string {
  return `seats_booked ${stock.seatsBooked} of ${stock.seatsTotal}; held/sold bookings ${stock.liveBookings}, ${stock.heldOrSold} seats`;
}
