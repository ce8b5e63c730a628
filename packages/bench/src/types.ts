/**
 * The load generator's API types. A call is named by module and export, not passed as a function, because it
 * runs in worker processes: each worker imports the module itself and calls the export once per call.
 */

/** JSON that can cross a process boundary (what `setup` must be). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * One call of the load. Resolving counts as ok; rejecting counts as failed, by gRPC status name for a
 * nice-grpc `ClientError` (e.g. `UNAVAILABLE`), else by the error's name (`AbortError` when the run's drain
 * deadline cancelled it). `callIndex` is unique across workers; `signal` aborts when the drain time is up.
 * Keep per-worker state (channels, clients, tokens) in the module, made on first use.
 */
export type CallFunction<Setup = Json> = (
  setup: Setup,
  workerIndex: number,
  callIndex: number,
  signal: AbortSignal,
) => Promise<unknown>;

interface CommonLoadOptions {
  /** Module the workers import: a file URL (`new URL('./call.ts', import.meta.url).href`) or a resolvable specifier. */
  callModule: string;
  /** Its export to call; default `makeCall`. */
  callExport?: string;
  /** Handed to every call as is, after a trip through JSON. */
  setup?: Json;
  /** The measured window. */
  seconds: number;
  /** Load before the window, not measured (connections, JIT); default 0. */
  warmupSeconds?: number;
  /** Worker processes; default 2. */
  workers?: number;
  /** How long calls may still run after the window before they are aborted; default 10 s. */
  drainSeconds?: number;
  /** Other processes (name → pid) whose CPU over the run is reported, with µs per answered call. */
  observe?: Record<string, number>;
  /** Called right before the workers start and right after the last one has drained: read other counters there. */
  onStart?: () => unknown;
  onEnd?: () => unknown;
}

/** N callers, each with one call in flight: a new call as soon as the last one answers. */
export interface ClosedLoopOptions extends CommonLoadOptions {
  mode: 'closed';
  /** Callers in all, spread over the workers. */
  callers: number;
  /** A caller waits this long after a failure, so a failing server is not spun on; default 10 ms. */
  pauseAfterFailureMs?: number;
}

/** A fixed arrival rate: call i is due at start + i/rate whatever the earlier calls do. */
export interface OpenLoopOptions extends CommonLoadOptions {
  mode: 'open';
  /** Calls per second, all workers together. */
  rate: number;
  /** Calls in flight at most, all workers together; a due call that finds them all busy is dropped. Default 10,000. */
  maxInFlight?: number;
  /** The generator counts as saturated when the p99 of (actual start − due time) exceeds this; default 10 ms. */
  maxStartLagMs?: number;
}

export type LoadOptions = ClosedLoopOptions | OpenLoopOptions;

/** Latency figures in milliseconds (HDR histogram, 3 significant digits, recorded in µs). */
export interface Percentiles {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export interface LoadResult {
  mode: 'closed' | 'open';
  workers: number;
  /** Closed loop: the callers; open loop: the rate. */
  callers?: number;
  rate?: number;
  seconds: number;
  warmupSeconds: number;
  /**
   * Calls of the window: closed loop, those that finished inside it; open loop, those due inside it (finished
   * during the window or the drain). calls = ok + failed counts.
   */
  calls: number;
  ok: number;
  failed: Record<string, number>;
  /** Successful calls finished inside the window, per second of it, and their mean: the throughput. */
  throughput: number;
  perSecond: number[];
  /** Closed loop: send to answer. Open loop: due time to answer, so a late start counts (no coordinated omission). */
  latencyMs: Percentiles;
  /** The merged latency histogram (µs), hdr-histogram-js compressed base64, for other percentiles. */
  latencyHistogram: string;
  /** Open loop only. due = started + dropped (window calls); startLagMs: actual start − due time. */
  open?: { due: number; started: number; dropped: number; startLagMs: Percentiles };
  /** Every successful call, warm-up and drain included (e.g. what a database must then contain). */
  acknowledged: number;
  /** Every call that got an answer or an error, warm-up and drain included: the divisor of `observed` µs/call. */
  answered: number;
  /** Per worker, from the start signal to the end of its drain. */
  generator: { cpuSeconds: number[]; coreShare: number[]; eventLoopUtilization: number[]; wallSeconds: number };
  /** CPU of `observe`d processes over the same span, and µs per answered call. */
  observed: Record<string, { cpuSeconds: number; microsPerCall: number }>;
  /** The generator may have been the limit; `saturationReasons` says why. */
  saturated: boolean;
  saturationReasons: string[];
}
