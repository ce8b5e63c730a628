import type { Json } from './types.ts';

/** What one worker runs: its share of the load. */
export interface WorkerPlan {
  workerIndex: number;
  workers: number;
  callModule: string;
  callExport: string;
  setup: Json;
  mode: 'closed' | 'open';
  /** Closed loop: this worker's callers. */
  callers: number;
  pauseAfterFailureMs: number;
  /** Open loop: the total rate (the worker takes calls workerIndex, workerIndex + workers, …) and its in-flight cap. */
  rate: number;
  maxInFlight: number;
  warmupSeconds: number;
  seconds: number;
  drainSeconds: number;
}

export interface WorkerReport {
  workerIndex: number;
  /** Encoded histograms (µs): latency of the window's calls; open loop, their start lag too. */
  latency: string;
  startLag: string | null;
  ok: number;
  failed: Record<string, number>;
  perSecond: number[];
  due: number;
  started: number;
  dropped: number;
  acknowledged: number;
  answered: number;
  cpuSeconds: number;
  wallSeconds: number;
  eventLoopUtilization: number;
}

export type ToWorker = { type: 'plan'; plan: WorkerPlan } | { type: 'go'; startAtEpochMs: number };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'done'; report: WorkerReport }
  | { type: 'error'; message: string };
