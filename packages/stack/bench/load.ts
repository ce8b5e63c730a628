import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClientError, Status } from 'nice-grpc';
import type { Target } from './target.ts';

/** The three calls of one purchase, in order, and the purchase as a whole. */
export const STEPS = ['AddToCart', 'PlaceOrder', 'MarkOrderAsPaid'] as const;
export type Step = (typeof STEPS)[number];

export interface LoadPlan {
  /** Prefix of every buyer's user id, so that runs never share a cart. */
  runId: string;
  ticketTypeId: string;
  rate: number;
  orders: number;
  /** The box office's call options (an admin token, signed once like a real box office session). */
  asBoxOffice: Awaited<ReturnType<Target['as']>>;
  signal: AbortSignal;
}

export interface StepLatencies {
  /** From when the call was due (a buyer's first call: its scheduled start; later ones: the previous answer). */
  fromDueMs: number[];
  /** From sending the call to its answer. */
  serviceMs: number[];
}

export interface FailureTally {
  count: number;
  /** The step and message of the first failure with this code, to say why without flooding the output. */
  first: string;
}

export interface LoadResult {
  attempted: number;
  succeeded: number;
  steps: Record<Step, StepLatencies>;
  /** Scheduled start to paid order, for the buyers that got there. */
  orderMs: number[];
  /** How late each buyer started compared with its schedule: the generator's own delay. */
  startLagMs: number[];
  failures: Map<string, FailureTally>;
  /** performance.now() of the first buyer's due time, and when the last buyer finished. */
  startedAt: number;
  finishedAt: number;
  /** Wall time between the first and the last buyer's actual start. */
  startSpanMs: number;
}

/**
 * Open loop: buyer i is due at start + i/rate, whether or not earlier buyers are done, so a slow system meets
 * the same arrivals instead of being offered less work (no coordinated omission). Resolves once every buyer
 * that started has finished.
 */
export async function runOpenLoop(target: Target, plan: LoadPlan): Promise<LoadResult> {
  const result = emptyResult();
  const buyers: Promise<void>[] = [];
  const intervalMs = 1_000 / plan.rate;
  // A little lead so that buyer 0 is not already late by the time the loop reaches it.
  result.startedAt = performance.now() + 5;
  let lastStart = result.startedAt;
  for (let index = 0; index < plan.orders && !plan.signal.aborted; index += 1) {
    const dueAt = result.startedAt + index * intervalMs;
    const wait = dueAt - performance.now();
    if (wait > 0) {
      const woke = await sleep(wait, true, { signal: plan.signal }).catch(() => false);
      if (!woke) break;
    }
    lastStart = performance.now();
    result.startLagMs.push(lastStart - dueAt);
    result.attempted += 1;
    buyers.push(buy(target, plan, index, dueAt, result));
  }
  result.startSpanMs = lastStart - result.startedAt;
  await Promise.all(buyers);
  result.finishedAt = performance.now();
  return result;
}

/** One buyer, a user of its own: add one ticket, place the order, and the box office marks it paid. */
async function buy(target: Target, plan: LoadPlan, index: number, dueAt: number, result: LoadResult): Promise<void> {
  const userId = `${plan.runId}-buyer-${index}`;
  let step: Step = 'AddToCart';
  try {
    // Signing is the generator's work, so it sits inside AddToCart's from-due latency but not its service time.
    const asBuyer = await target.as(userId);
    let due = dueAt;
    due = await timed(result, step, due, () =>
      target.checkout.addToCart({ userId, ticketTypeId: plan.ticketTypeId, quantity: 1 }, asBuyer),
    ).then(({ at }) => at);
    step = 'PlaceOrder';
    const placed = await timed(result, step, due, () =>
      target.checkout.placeOrder(
        { userId, email: `${userId}@bench.example.com`, idempotencyKey: randomUUID() },
        asBuyer,
      ),
    );
    const orderId = placed.response.order?.id;
    if (!orderId) throw new Error('PlaceOrder answered without an order id');
    step = 'MarkOrderAsPaid';
    const paid = await timed(result, step, placed.at, () =>
      target.checkout.markOrderAsPaid(
        { userId, orderId, paymentReference: `bench-${randomUUID()}`, idempotencyKey: randomUUID() },
        plan.asBoxOffice,
      ),
    );
    result.orderMs.push(paid.at - dueAt);
    result.succeeded += 1;
  } catch (error) {
    recordFailure(result.failures, step, error);
  }
}

/** Runs one call, recording both latencies when it succeeds; returns its answer and when it came. */
async function timed<Response>(
  result: LoadResult,
  step: Step,
  dueAt: number,
  call: () => Promise<Response>,
): Promise<{ response: Response; at: number }> {
  const sentAt = performance.now();
  const response = await call();
  const at = performance.now();
  result.steps[step].fromDueMs.push(at - dueAt);
  result.steps[step].serviceMs.push(at - sentAt);
  return { response, at };
}

function recordFailure(failures: Map<string, FailureTally>, step: Step, error: unknown): void {
  const code = error instanceof ClientError ? (Status[error.code] ?? String(error.code)) : errorName(error);
  const message = error instanceof ClientError ? error.details : error instanceof Error ? error.message : String(error);
  const tally = failures.get(code);
  if (tally) tally.count += 1;
  else failures.set(code, { count: 1, first: `${step}: ${message}` });
}

const errorName = (error: unknown): string => (error instanceof Error ? error.name : typeof error);

function emptyResult(): LoadResult {
  const latencies = (): StepLatencies => ({ fromDueMs: [], serviceMs: [] });
  const steps = { AddToCart: latencies(), PlaceOrder: latencies(), MarkOrderAsPaid: latencies() };
  return {
    attempted: 0,
    succeeded: 0,
    steps,
    orderMs: [],
    startLagMs: [],
    failures: new Map(),
    startedAt: 0,
    finishedAt: 0,
    startSpanMs: 0,
  };
}
