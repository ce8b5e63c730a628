/**
 * One worker process of runLoad: imports the call module, waits for the common start time, runs its share of
 * the load, and sends its counts and encoded histograms to the parent.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep, setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Histogram } from 'hdr-histogram-js';
import { ClientError, Status } from 'nice-grpc';
import { encode, newHistogram, recordMs } from './histogram.ts';
import type { FromWorker, ToWorker, WorkerPlan, WorkerReport } from './protocol.ts';
import type { CallFunction, Json } from './types.ts';

/** Open loop: after this many starts without sleeping, let answers in before starting more. */
const STARTS_PER_TURN = 32;

function send(message: FromWorker): void {
  process.send?.(message);
}

/** Counts of one worker; `inWindow` decides per call whether it belongs to the measured window. */
class Tally {
  readonly latency = newHistogram();
  readonly startLag: Histogram | null;
  ok = 0;
  readonly failed: Record<string, number> = {};
  readonly perSecond: number[];
  due = 0;
  started = 0;
  dropped = 0;
  acknowledged = 0;
  answered = 0;
  private readonly from: number;
  private readonly until: number;

  constructor(from: number, until: number, seconds: number, open: boolean) {
    this.from = from;
    this.until = until;
    this.perSecond = Array.from({ length: Math.ceil(seconds) }, () => 0);
    this.startLag = open ? newHistogram() : null;
  }

  inWindow(at: number): boolean {
    return at >= this.from && at < this.until;
  }

  /** A call answered at `finished`; `measured`: it belongs to the window's calls. */
  answer(error: unknown, latencyMs: number, finished: number, measured: boolean): void {
    this.answered += 1;
    if (error === undefined) {
      this.acknowledged += 1;
      if (this.inWindow(finished)) {
        const second = Math.floor((finished - this.from) / 1_000);
        if (second < this.perSecond.length) this.perSecond[second] = (this.perSecond[second] ?? 0) + 1;
      }
      if (measured) {
        this.ok += 1;
        recordMs(this.latency, latencyMs);
      }
    } else if (measured) {
      const name = failureName(error);
      this.failed[name] = (this.failed[name] ?? 0) + 1;
    }
  }
}

export function failureName(error: unknown): string {
  if (error instanceof ClientError) return Status[error.code] ?? String(error.code);
  return error instanceof Error ? error.name : String(error);
}

async function settle(promise: () => Promise<unknown>): Promise<unknown> {
  try {
    await promise();
    return undefined;
  } catch (error) {
    return error ?? new Error('rejected without a reason');
  }
}

async function runClosed(plan: WorkerPlan, call: CallFunction, start: number, signal: AbortSignal, tally: Tally) {
  const until = start + (plan.warmupSeconds + plan.seconds) * 1_000;
  let next = 0;
  const caller = async () => {
    while (performance.now() < until && !signal.aborted) {
      const callIndex = next * plan.workers + plan.workerIndex;
      next += 1;
      const sent = performance.now();
      const error = await settle(() => call(plan.setup, plan.workerIndex, callIndex, signal));
      const finished = performance.now();
      tally.answer(error, finished - sent, finished, tally.inWindow(finished));
      if (error !== undefined && plan.pauseAfterFailureMs > 0) await sleep(plan.pauseAfterFailureMs);
    }
  };
  await Promise.all(Array.from({ length: plan.callers }, caller));
}

async function runOpen(plan: WorkerPlan, call: CallFunction, start: number, signal: AbortSignal, tally: Tally) {
  const intervalMs = 1_000 / plan.rate;
  const firstMeasured = Math.ceil(plan.rate * plan.warmupSeconds);
  const end = Math.ceil(plan.rate * (plan.warmupSeconds + plan.seconds));
  let inFlight = 0;
  let allDone: (() => void) | undefined;
  let startsThisTurn = 0;
  for (let index = plan.workerIndex; index < end && !signal.aborted; index += plan.workers) {
    const due = start + index * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) {
      await sleep(wait);
      startsThisTurn = 0;
    } else if (startsThisTurn >= STARTS_PER_TURN) {
      await yieldToLoop();
      startsThisTurn = 0;
    }
    const measured = index >= firstMeasured;
    if (measured) tally.due += 1;
    if (inFlight >= plan.maxInFlight) {
      if (measured) tally.dropped += 1;
      continue;
    }
    const sent = performance.now();
    startsThisTurn += 1;
    if (measured) {
      tally.started += 1;
      tally.startLag?.recordValue(Math.max(1, Math.round((sent - due) * 1_000)));
    }
    inFlight += 1;
    void settle(() => call(plan.setup, plan.workerIndex, index, signal)).then((error) => {
      const finished = performance.now();
      tally.answer(error, finished - due, finished, measured);
      inFlight -= 1;
      if (inFlight === 0) allDone?.();
    });
  }
  if (inFlight > 0) await new Promise<void>((resolve) => (allDone = resolve));
}

async function run(plan: WorkerPlan, startAtEpochMs: number, call: CallFunction): Promise<WorkerReport> {
  const start = startAtEpochMs - performance.timeOrigin;
  const from = start + plan.warmupSeconds * 1_000;
  const until = from + plan.seconds * 1_000;
  const tally = new Tally(from, until, plan.seconds, plan.mode === 'open');
  const drainDeadline = until + plan.drainSeconds * 1_000;
  const lead = start - performance.now();
  if (lead > 0) await sleep(lead);
  const cpuBefore = process.cpuUsage();
  const eluBefore = performance.eventLoopUtilization();
  const wallBefore = performance.now();
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), Math.max(0, drainDeadline - performance.now()));
  try {
    if (plan.mode === 'closed') await runClosed(plan, call, start, abort.signal, tally);
    else await runOpen(plan, call, start, abort.signal, tally);
  } finally {
    clearTimeout(timer);
  }
  const cpu = process.cpuUsage(cpuBefore);
  return {
    workerIndex: plan.workerIndex,
    latency: encode(tally.latency),
    startLag: tally.startLag ? encode(tally.startLag) : null,
    ok: tally.ok,
    failed: tally.failed,
    perSecond: tally.perSecond,
    due: tally.due,
    started: tally.started,
    dropped: tally.dropped,
    acknowledged: tally.acknowledged,
    answered: tally.answered,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    wallSeconds: (performance.now() - wallBefore) / 1_000,
    eventLoopUtilization: performance.eventLoopUtilization(eluBefore).utilization,
  };
}

let plan: WorkerPlan | undefined;
let call: CallFunction | undefined;

process.on('message', (message: ToWorker) => {
  if (message.type === 'plan') {
    plan = message.plan;
    const { callModule, callExport } = plan;
    import(callModule).then(
      (module: Record<string, unknown>) => {
        const exported = module[callExport];
        if (typeof exported !== 'function') {
          send({ type: 'error', message: `${callModule} has no function export ${callExport}` });
          return;
        }
        call = exported as CallFunction<Json>;
        send({ type: 'ready' });
      },
      (error: unknown) => send({ type: 'error', message: `importing ${callModule}: ${String(error)}` }),
    );
  } else if (message.type === 'go' && plan && call) {
    run(plan, message.startAtEpochMs, call).then(
      (report) => send({ type: 'done', report }),
      (error: unknown) =>
        send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  }
});
// The parent went away: nobody will read the results.
process.on('disconnect', () => process.exit(0));
