import { type ChildProcess, fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { cpuTimeOf } from './cpu.ts';
import { encode, mergeEncoded, percentilesOf } from './histogram.ts';
import type { FromWorker, ToWorker, WorkerPlan, WorkerReport } from './protocol.ts';
import type { LoadOptions, LoadResult } from './types.ts';

const WORKER = new URL('./worker.ts', import.meta.url);
const READY_WITHIN_MS = 60_000;
/** Workers start this long after the go message, so all of them start together. */
const START_LEAD_MS = 200;
/** A closed-loop worker using this share of a core (or of its event loop) is the limit, not the server. */
const SATURATED_SHARE = 0.9;

/**
 * Runs the load in `workers` child processes (default 2), each with its share of the callers or of the arrival
 * rate and its own channels (made by the call module), then merges their counts and histograms.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const workers = options.workers ?? 2;
  if (!(workers >= 1 && Number.isInteger(workers))) throw new Error(`workers must be a positive integer: ${workers}`);
  if (!(options.seconds > 0)) throw new Error(`seconds must be positive: ${options.seconds}`);
  const plans = Array.from({ length: workers }, (_, workerIndex) => planOf(options, workerIndex, workers));
  const children = plans.map(() => fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  try {
    const inbox = children.map((child, index) => messagesOf(child, index));
    plans.forEach((plan, index) => {
      children[index]?.send({ type: 'plan', plan } satisfies ToWorker);
    });
    await withTimeout(Promise.all(inbox.map((next) => next('ready'))), READY_WITHIN_MS, 'workers did not get ready');
    const observed = Object.entries(options.observe ?? {});
    await options.onStart?.();
    const cpuBefore = await Promise.all(observed.map(([, pid]) => cpuTimeOf(pid)));
    const startAtEpochMs = performance.timeOrigin + performance.now() + START_LEAD_MS;
    for (const child of children) child.send({ type: 'go', startAtEpochMs } satisfies ToWorker);
    const reports = await Promise.all(inbox.map((next) => next('done')));
    const cpuAfter = await Promise.all(observed.map(([, pid]) => cpuTimeOf(pid)));
    await options.onEnd?.();
    const cpuOf = observed.map(([name], index) => [name, (cpuAfter[index] ?? 0) - (cpuBefore[index] ?? 0)] as const);
    return merge(
      options,
      workers,
      reports.map((message) => message.report),
      cpuOf,
    );
  } finally {
    for (const child of children) {
      if (child.connected) child.disconnect();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }
  }
}

function planOf(options: LoadOptions, workerIndex: number, workers: number): WorkerPlan {
  const common = {
    workerIndex,
    workers,
    callModule: options.callModule,
    callExport: options.callExport ?? 'makeCall',
    setup: options.setup ?? null,
    warmupSeconds: options.warmupSeconds ?? 0,
    seconds: options.seconds,
    drainSeconds: options.drainSeconds ?? 10,
  };
  if (options.mode === 'closed') {
    const share = Math.floor(options.callers / workers) + (workerIndex < options.callers % workers ? 1 : 0);
    return {
      ...common,
      mode: 'closed',
      callers: share,
      pauseAfterFailureMs: options.pauseAfterFailureMs ?? 10,
      rate: 0,
      maxInFlight: 0,
    };
  }
  if (!(options.rate > 0)) throw new Error(`rate must be positive: ${options.rate}`);
  return {
    ...common,
    mode: 'open',
    callers: 0,
    pauseAfterFailureMs: 0,
    rate: options.rate,
    maxInFlight: Math.max(1, Math.floor((options.maxInFlight ?? 10_000) / workers)),
  };
}

type MessageOf<T extends FromWorker['type']> = Extract<FromWorker, { type: T }>;

/** Waits for one worker's next message of a type; its error message, or its exit, rejects instead. */
function messagesOf(child: ChildProcess, index: number) {
  return <T extends 'ready' | 'done'>(type: T): Promise<MessageOf<T>> =>
    new Promise((resolve, reject) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new Error(`load worker ${index} exited (${child.signalCode ?? child.exitCode}) before '${type}'`));
        return;
      }
      const onMessage = (message: FromWorker) => {
        if (message.type === type) {
          cleanUp();
          resolve(message as MessageOf<T>);
        } else if (message.type === 'error') {
          cleanUp();
          reject(new Error(`load worker ${index}: ${message.message}`));
        }
      };
      const onExit = (code: number | null, signal: string | null) => {
        cleanUp();
        reject(new Error(`load worker ${index} exited (${signal ?? code}) before '${type}'`));
      };
      const cleanUp = () => {
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
    });
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function sumRecords(records: readonly Record<string, number>[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const record of records) for (const [key, count] of Object.entries(record)) sum[key] = (sum[key] ?? 0) + count;
  return sum;
}

function merge(
  options: LoadOptions,
  workers: number,
  reports: readonly WorkerReport[],
  observedCpu: readonly (readonly [string, number])[],
): LoadResult {
  const latency = mergeEncoded(reports.map((report) => report.latency));
  const failed = sumRecords(reports.map((report) => report.failed));
  const failedCount = Object.values(failed).reduce((sum, count) => sum + count, 0);
  const ok = reports.reduce((sum, report) => sum + report.ok, 0);
  const perSecond = Array.from({ length: Math.ceil(options.seconds) }, (_, second) =>
    reports.reduce((sum, report) => sum + (report.perSecond[second] ?? 0), 0),
  );
  const answered = reports.reduce((sum, report) => sum + report.answered, 0);
  const generator = {
    cpuSeconds: reports.map((report) => report.cpuSeconds),
    coreShare: reports.map((report) => report.cpuSeconds / report.wallSeconds),
    eventLoopUtilization: reports.map((report) => report.eventLoopUtilization),
    wallSeconds: Math.max(...reports.map((report) => report.wallSeconds)),
  };
  const reasons: string[] = [];
  generator.coreShare.forEach((share, index) => {
    if (options.mode === 'closed' && share >= SATURATED_SHARE)
      reasons.push(`worker ${index} used ${(share * 100).toFixed(0)}% of a core`);
  });
  generator.eventLoopUtilization.forEach((share, index) => {
    if (share >= SATURATED_SHARE)
      reasons.push(`worker ${index}'s event loop was busy ${(share * 100).toFixed(0)}% of the time`);
  });
  let open: LoadResult['open'];
  if (options.mode === 'open') {
    const startLag = mergeEncoded(reports.flatMap((report) => (report.startLag ? [report.startLag] : [])));
    const due = reports.reduce((sum, report) => sum + report.due, 0);
    const dropped = reports.reduce((sum, report) => sum + report.dropped, 0);
    const started = reports.reduce((sum, report) => sum + report.started, 0);
    open = { due, started, dropped, startLagMs: percentilesOf(startLag) };
    startLag.destroy();
    const bound = options.maxStartLagMs ?? 10;
    if (dropped > 0) reasons.push(`${dropped} due calls dropped: ${options.maxInFlight ?? 10_000} already in flight`);
    if (open.startLagMs.p99 > bound)
      reasons.push(`p99 start lag ${open.startLagMs.p99.toFixed(1)} ms > ${bound} ms: calls started late`);
  }
  const result: LoadResult = {
    mode: options.mode,
    workers,
    ...(options.mode === 'closed' ? { callers: options.callers } : { rate: options.rate }),
    seconds: options.seconds,
    warmupSeconds: options.warmupSeconds ?? 0,
    calls: ok + failedCount,
    ok,
    failed,
    throughput: perSecond.reduce((sum, count) => sum + count, 0) / options.seconds,
    perSecond,
    latencyMs: percentilesOf(latency),
    latencyHistogram: encode(latency),
    ...(open ? { open } : {}),
    acknowledged: reports.reduce((sum, report) => sum + report.acknowledged, 0),
    answered,
    generator,
    observed: Object.fromEntries(
      observedCpu.map(([name, seconds]) => [
        name,
        { cpuSeconds: seconds, microsPerCall: answered === 0 ? Number.NaN : (seconds * 1e6) / answered },
      ]),
    ),
    saturated: reasons.length > 0,
    saturationReasons: reasons,
  };
  latency.destroy();
  return result;
}
