import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BookingServiceDefinition } from '@ticket/contracts/v1/booking/booking_service';
import { type Client, ClientError, type Metadata, Status } from 'nice-grpc';

/** A plain nice-grpc client: no middleware, so the load generator spends as little CPU per call as it can. */
export type BookingClient = Client<typeof BookingServiceDefinition>;

export interface StockKey {
  eventId: string;
  ticketTypeId: string;
}

export interface HoldLoadOptions {
  concurrency: number;
  warmupSeconds: number;
  seconds: number;
  /** Cancels calls still running when it aborts: the run's deadline, so a stuck call cannot hang the bench. */
  signal: AbortSignal;
  /** Each call's metadata: checkout's current service token, which booking requires. */
  metadata: () => Metadata;
}

export interface HoldLoadResult {
  /** Length of the measured window. */
  measuredSeconds: number;
  /** Holds acknowledged inside the measured window. */
  holdsInWindow: number;
  /** Latency of each call acknowledged inside the window, in ms, ascending. */
  latenciesMs: Float64Array;
  /** Every acknowledged hold, warm-up and drain included: what the database must contain. */
  acknowledged: number;
  /** Failed calls by gRPC status (or error name), whenever they happened. */
  failures: Map<string, number>;
}

/** A failing service answers at once; a short pause keeps a caller from spinning on it. */
const PAUSE_AFTER_FAILURE_MS = 10;

/**
 * `concurrency` callers, each with one CreateBooking in flight at a time, all on the same stock, until
 * the window closes. Callers share the given clients round robin, so one process keeps many calls in
 * flight on few HTTP/2 connections: on a 2-core machine the load generator must stay cheap.
 */
export async function runHoldLoad(
  clients: readonly BookingClient[],
  stock: StockKey,
  options: HoldLoadOptions,
): Promise<HoldLoadResult> {
  const measureFrom = performance.now() + options.warmupSeconds * 1_000;
  const measureUntil = measureFrom + options.seconds * 1_000;
  const tally = new Tally(measureFrom, measureUntil);
  await Promise.all(
    Array.from({ length: options.concurrency }, (_, index) =>
      callUntil(
        clients[index % clients.length] as BookingClient,
        stock,
        { until: measureUntil, signal: options.signal, metadata: options.metadata },
        tally,
      ),
    ),
  );
  return tally.result();
}

async function callUntil(
  client: BookingClient,
  stock: StockKey,
  { until, signal, metadata }: { until: number; signal: AbortSignal; metadata: () => Metadata },
  tally: Tally,
): Promise<void> {
  while (performance.now() < until && !signal.aborted) {
    const started = performance.now();
    try {
      await client.createBooking(oneSeatHold(stock), { signal, metadata: metadata() });
      tally.succeeded(started, performance.now());
    } catch (error) {
      tally.failed(failureName(error));
      await sleep(PAUSE_AFTER_FAILURE_MS);
    }
  }
}

/** One seat for a new order each time, as in a flash sale where every buyer is someone else. */
function oneSeatHold(stock: StockKey) {
  const orderId = randomUUID();
  return { ...stock, orderId, userId: `bench-${orderId.slice(0, 8)}`, seats: 1, idempotencyKey: orderId };
}

function failureName(error: unknown): string {
  if (error instanceof ClientError) return Status[error.code] ?? String(error.code);
  return error instanceof Error ? error.name : String(error);
}

/** Counts calls; latencies only of calls that finished inside the measured window. */
class Tally {
  private readonly from: number;
  private readonly until: number;
  private latencies = new Float64Array(1 << 16);
  private inWindow = 0;
  private acknowledged = 0;
  private readonly failures = new Map<string, number>();

  constructor(from: number, until: number) {
    this.from = from;
    this.until = until;
  }

  succeeded(started: number, finished: number): void {
    this.acknowledged += 1;
    if (finished < this.from || finished > this.until) return;
    if (this.inWindow === this.latencies.length) this.grow();
    this.latencies[this.inWindow] = finished - started;
    this.inWindow += 1;
  }

  failed(name: string): void {
    this.failures.set(name, (this.failures.get(name) ?? 0) + 1);
  }

  result(): HoldLoadResult {
    return {
      measuredSeconds: (this.until - this.from) / 1_000,
      holdsInWindow: this.inWindow,
      latenciesMs: this.latencies.slice(0, this.inWindow).sort(),
      acknowledged: this.acknowledged,
      failures: this.failures,
    };
  }

  private grow(): void {
    const larger = new Float64Array(this.latencies.length * 2);
    larger.set(this.latencies);
    this.latencies = larger;
  }
}

/** Nearest-rank percentile of ascending values; NaN when there are none. */
export function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(fraction * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}
