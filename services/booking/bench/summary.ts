import { availableParallelism } from 'node:os';
import { formatFailures, type LoadResult } from '@ticket/bench';
import type { HoldTransactions, StockLedger } from './database.ts';
import type { PgbenchResult } from './pgbench.ts';

export interface BenchFigures {
  seconds: number;
  concurrency: number;
  workers: number;
  /** Channels per worker. */
  channels: number;
  postgres: string;
  kafka: string;
  grpc: LoadResult;
  /** Open loop right after, at 80% of the closed loop's holds/s, latency from each hold's due time. */
  grpcOpen: LoadResult;
  /** The same load against the no-op BookingService: the transport (and generator) limit. */
  noop: LoadResult;
  grpcLedger: StockLedger;
  grpcTransactions: HoldTransactions;
  /** VmHWM once booking answered, before any load, and at the end of the load. */
  bookingReadyPeakRssKiB: number;
  bookingPeakRssKiB: number;
  /** CPU seconds used during the load phase (warm-up and drain included), and that phase's wall-clock length. */
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
  const acknowledged = acknowledgedHolds(figures);
  if (acknowledged > figures.grpcLedger.liveBookings) {
    problems.push(`${acknowledged - figures.grpcLedger.liveBookings} acknowledged holds are not in the database`);
  }
  if (figures.grpc.ok === 0) problems.push('no CreateBooking call succeeded in the measured window');
  if (figures.noop.ok === 0) problems.push('no call to the no-op BookingService succeeded in the measured window');
  return { ratio, ratioMet: ratio >= figures.targetRatio, problems };
}

export const holdsPerSecond = (result: LoadResult): number => result.throughput;

/** Holds booking answered OK in the closed and the open loop, both on the gRPC stock. */
const acknowledgedHolds = (figures: BenchFigures): number => figures.grpc.acknowledged + figures.grpcOpen.acknowledged;

/** The target for the open loop at 80% of the closed loop's rate. */
const OPEN_LOOP_P99_TARGET_MS = 50;

/** Server CPU per answered call (warm-up and drain included), in µs. */
const microsPerCall = (result: LoadResult, server: string): number =>
  result.observed[server]?.microsPerCall ?? Number.NaN;

/** The summary block: one aligned label column, figures first, then the checks and the verdict. */
export function formatSummary(figures: BenchFigures, verdict: Verdict): string {
  const { grpc, noop, pgbench } = figures;
  const rows: [string, string][] = [
    ['setup', `${figures.concurrency} callers (closed loop), ${figures.seconds} s, one hot stock, 1 seat per hold`],
    ['postgres', figures.postgres],
    ['kafka', figures.kafka],
    ['', ''],
    [
      'gRPC CreateBooking',
      `${grpc.seconds} s, ${figures.concurrency} callers in ${figures.workers} load worker processes, ${figures.channels} channel(s) each, group commit`,
    ],
    ['  holds/s', `${rate(holdsPerSecond(grpc))} (per second: ${grpc.perSecond.map(rate).join(' ')})`],
    ['  latency p50', ms(grpc.latencyMs.p50)],
    ['  latency p99', ms(grpc.latencyMs.p99)],
    ['  latency p99.9 / max', `${ms(grpc.latencyMs.p999)} / ${ms(grpc.latencyMs.max)}`],
    ['  failed calls', formatFailures(grpc.failed)],
    ['  holds per transaction', transactions(figures.grpcTransactions)],
    [
      '  booking peak RSS',
      `${mib(figures.bookingPeakRssKiB)} (VmHWM; ${mib(figures.bookingReadyPeakRssKiB)} when ready)`,
    ],
    ['  booking CPU', cpu(figures.bookingCpuSeconds, figures)],
    [
      '  booking CPU per hold',
      `${micros(microsPerCall(grpc, 'booking'))} (over ${rate(grpc.answered)} answered calls)`,
    ],
    ['  Postgres CPU', `${cpu(figures.postgresCpuSeconds, figures)} (booking's connections)`],
    ['  load generator CPU', `${cpu(figures.loadCpuSeconds, figures)}; ${workerShares(grpc)}`],
    ['  machine busy', `${percent(figures.machineBusyShare)} of all cores (booking, load, Postgres and anyone else)`],
    ['  load generator', generatorVerdict(grpc)],
    ['', ''],
    [
      'gRPC open loop',
      `${figures.grpcOpen.rate} holds/s arriving (80% of the closed loop's), ${figures.grpcOpen.seconds} s`,
    ],
    ['  holds/s', rate(holdsPerSecond(figures.grpcOpen))],
    ['  latency from due p50', ms(figures.grpcOpen.latencyMs.p50)],
    [
      '  latency from due p99',
      `${ms(figures.grpcOpen.latencyMs.p99)} (target <= ${OPEN_LOOP_P99_TARGET_MS} ms: ${figures.grpcOpen.latencyMs.p99 <= OPEN_LOOP_P99_TARGET_MS ? 'met' : 'not met'})`,
    ],
    ['  start lag p99', ms(figures.grpcOpen.open?.startLagMs.p99 ?? Number.NaN)],
    ['  failed / dropped', `${formatFailures(figures.grpcOpen.failed)} / ${figures.grpcOpen.open?.dropped ?? 0}`],
    ['  booking CPU per hold', micros(microsPerCall(figures.grpcOpen, 'booking'))],
    ['  load generator', generatorVerdict(figures.grpcOpen)],
    ['', ''],
    ['no-op BookingService', `the same load, generator and call, answered at once with an empty response`],
    ['  calls/s', `${rate(holdsPerSecond(noop))} (per second: ${noop.perSecond.map(rate).join(' ')})`],
    ['  latency p50', ms(noop.latencyMs.p50)],
    ['  latency p99', ms(noop.latencyMs.p99)],
    ['  failed calls', formatFailures(noop.failed)],
    [
      '  no-op server CPU per call',
      `${micros(microsPerCall(noop, 'noop'))} (over ${rate(noop.answered)} answered calls)`,
    ],
    ['  load generator CPU', workerShares(noop)],
    ['  load generator', generatorVerdict(noop)],
    ['booking / no-op', ratios(figures)],
    ['', ''],
    ['pgbench per-request tx', `${figures.seconds} s, ${figures.concurrency} clients, UPDATE + INSERT per transaction`],
    ['  tps', rate(pgbench.tps)],
    ['  latency average', ms(pgbench.latencyAverageMs)],
    ['  failed transactions', String(pgbench.failedTransactions)],
    ['', ''],
    ['seats oversold', `${figures.grpcLedger.oversold + figures.pgbenchLedger.oversold} (must be 0)`],
    ['ledger drift', `${figures.grpcLedger.drift} gRPC, ${figures.pgbenchLedger.drift} pgbench (must be 0)`],
    ['gRPC stock', ledger(figures.grpcLedger)],
    [
      '  acknowledged holds',
      `${acknowledgedHolds(figures)} (both loops, warm-up and drain included; all must be stored)`,
    ],
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
const micros = (value: number): string => (Number.isNaN(value) ? 'n/a' : `${value.toFixed(0)} µs`);

function workerShares(result: LoadResult): string {
  const { coreShare, eventLoopUtilization } = result.generator;
  return coreShare
    .map(
      (share, index) => `w${index} ${percent(share)} of a core, loop ${percent(eventLoopUtilization[index] ?? 0)} busy`,
    )
    .join('; ');
}

function generatorVerdict(result: LoadResult): string {
  return result.saturated
    ? `SATURATED, the figure is the generator's: ${result.saturationReasons.join('; ')}`
    : 'not saturated';
}

/** How close booking comes to the transport limit, and what a hold costs the server beyond a bare call. */
function ratios(figures: BenchFigures): string {
  const throughput = holdsPerSecond(figures.grpc) / holdsPerSecond(figures.noop);
  const cpuRatio = microsPerCall(figures.grpc, 'booking') / microsPerCall(figures.noop, 'noop');
  return `${percent(throughput)} of the no-op calls/s; ${Number.isFinite(cpuRatio) ? cpuRatio.toFixed(1) : 'n/a'}x the no-op server's CPU per call`;
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
