import { DomainError, type Executor } from '@ticket/platform';
import { findHoldsAnswering, insertHolds } from '../db/booking-repository.ts';
import { lockStock } from '../db/stock-repository.ts';
import {
  type Booking,
  fitHolds,
  type HoldRequest,
  notEnoughSeats,
  type Stock,
  sameHold,
  seatsAvailable,
  stockNotFound,
} from '../domain/booking.ts';
import type { BookingContext } from './context.ts';
import type { HoldMetrics } from './hold-metrics.ts';
import { releaseLapsedHoldsIn } from './release-lapsed-holds.ts';

type Outcome = { booking: Booking } | { error: DomainError };

interface Pending {
  request: HoldRequest;
  settle(outcome: Outcome | { failure: unknown }): void;
}

export interface HoldBatcher {
  /** CreateBooking: holds the seats, or answers with the hold an earlier identical call made. */
  hold(request: HoldRequest): Promise<Booking>;
}

/**
 * Group commit for holds. Concurrent CreateBooking calls on the same stock queue up while one
 * transaction on that stock runs; the next transaction takes the whole queue (up to HOLD_BATCH_MAX),
 * locks the stock row once, decides every request in memory and writes all holds plus the stock's new
 * count in one statement. A flash sale then costs one hot-row update per batch instead of one per
 * buyer, and no row lock is ever held across a network call. Several replicas stay correct: the row
 * lock serialises their batches and the CHECK constraint bounds the count.
 */
export function createHoldBatcher(context: BookingContext, metrics?: HoldMetrics): HoldBatcher {
  const queues = new Map<string, Pending[]>();

  async function drain(stockKey: string, queue: Pending[]): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.splice(0, context.config.HOLD_BATCH_MAX);
      await runBatch(batch);
    }
    queues.delete(stockKey);
  }

  async function runBatch(batch: readonly Pending[]): Promise<void> {
    try {
      const { outcomes, expiredAny, granted, refused } = await context.db.transaction((tx) =>
        decideAndHold(
          tx,
          context,
          batch.map((pending) => pending.request),
        ),
      );
      if (expiredAny) context.eventsCommitted();
      metrics?.batch({ requests: batch.length, granted, refused });
      batch.forEach((pending, index) => {
        pending.settle(outcomes[index] ?? { failure: new Error('hold batch lost a request') });
      });
    } catch (failure) {
      for (const pending of batch) pending.settle({ failure });
    }
  }

  return {
    hold(request) {
      return new Promise<Booking>((resolve, reject) => {
        const pending: Pending = {
          request,
          settle(outcome) {
            if ('booking' in outcome) resolve(outcome.booking);
            else reject('error' in outcome ? outcome.error : outcome.failure);
          },
        };
        const stockKey = `${request.eventId}/${request.ticketTypeId}`;
        const queue = queues.get(stockKey);
        if (queue) {
          queue.push(pending);
          return;
        }
        const fresh = [pending];
        queues.set(stockKey, fresh);
        // Start on the next turn of the event loop, so calls that arrived together share the first batch.
        setImmediate(() => void drain(stockKey, fresh));
      });
    },
  };
}

/** One batch, in one transaction. `requests` all name the same stock. */
async function decideAndHold(
  tx: Executor,
  context: BookingContext,
  requests: readonly HoldRequest[],
): Promise<BatchDecision> {
  const [first] = requests;
  if (!first) return { outcomes: [], expiredAny: false, granted: 0, refused: 0 };
  const stock = await lockStock(tx, first);
  if (!stock) {
    return {
      outcomes: requests.map(() => ({ error: stockNotFound(first) })),
      expiredAny: false,
      granted: 0,
      refused: 0,
    };
  }

  const answers = new Answers(stock, await findHoldsAnswering(tx, stock.id, requests));
  const fresh = requests.filter((request) => answers.claim(request));

  let available = seatsAvailable(stock);
  let { granted, refused } = fitHolds(available, fresh);
  let expiredAny = false;
  if (refused.length > 0) {
    // Holds past their expiry must not block a buyer, even before the sweep: release them now.
    const expired = await releaseLapsedHoldsIn(tx, context, stock.seatsTotal, stock.id);
    if (expired.length > 0) {
      expiredAny = true;
      available += expired.reduce((sum, booking) => sum + booking.seats, 0);
      ({ granted, refused } = fitHolds(available, fresh));
    }
  }

  const inserted = await insertHolds(tx, stock, granted, context.config.HOLD_TTL_SECONDS);
  const left = available - inserted.reduce((sum, booking) => sum + booking.seats, 0);
  answers.record(inserted);
  const lost = granted.filter((request) => !answers.has(request));
  if (lost.length > 0) {
    // Another replica inserted the same order or key between our lookup and our insert: answer with its hold.
    answers.addEarlier(await findHoldsAnswering(tx, stock.id, lost));
  }
  for (const request of refused) answers.refuse(request, notEnoughSeats(request.seats, left));
  return {
    outcomes: requests.map((request) => answers.outcomeOf(request)),
    expiredAny,
    granted: inserted.length,
    refused: refused.length,
  };
}

interface BatchDecision {
  outcomes: Outcome[];
  /** Lapsed holds were released on the way (their events are in the outbox). */
  expiredAny: boolean;
  /** New holds inserted, and requests refused for want of seats. */
  granted: number;
  refused: number;
}

/**
 * What each request of a batch gets. A request is answered by an earlier hold with its idempotency
 * key or of its order on this stock; within a batch, a repeated key or order shares the first one's
 * answer. Only requests that `claim` accepts are new holds to decide on.
 */
class Answers {
  private readonly stock: Stock;
  private readonly byKey = new Map<string, Booking>();
  private readonly byOrder = new Map<string, Booking>();
  private readonly refusals = new Map<string, DomainError>();
  private readonly claimedKeys = new Set<string>();
  private readonly claimedOrders = new Set<string>();

  constructor(stock: Stock, earlier: readonly Booking[]) {
    this.stock = stock;
    this.addEarlier(earlier);
  }

  addEarlier(bookings: readonly Booking[]): void {
    for (const booking of bookings) {
      this.byKey.set(booking.idempotencyKey, booking);
      if (booking.stockId === this.stock.id) this.byOrder.set(booking.orderId, booking);
    }
  }

  record(inserted: readonly Booking[]): void {
    this.addEarlier(inserted);
  }

  /** True when the request needs a new hold: no earlier hold answers it and no earlier request of the batch does. */
  claim(request: HoldRequest): boolean {
    if (this.find(request) || this.claimedKeys.has(request.idempotencyKey) || this.claimedOrders.has(request.orderId)) {
      return false;
    }
    this.claimedKeys.add(request.idempotencyKey);
    this.claimedOrders.add(request.orderId);
    return true;
  }

  has(request: HoldRequest): boolean {
    return this.find(request) !== undefined;
  }

  refuse(request: HoldRequest, error: DomainError): void {
    this.refusals.set(`key:${request.idempotencyKey}`, error);
    this.refusals.set(`order:${request.orderId}`, error);
  }

  outcomeOf(request: HoldRequest): Outcome {
    const refusal = this.refusals.get(`key:${request.idempotencyKey}`) ?? this.refusals.get(`order:${request.orderId}`);
    if (refusal) return { error: refusal };
    const answer = this.find(request);
    if (!answer) return { error: new DomainError('unavailable', 'the hold could not be decided; retry') };
    if (answer.stockId !== this.stock.id || !sameHold(answer, request)) {
      return {
        // Whole sentences: alreadyExists() would append "already exists" to them.
        error: new DomainError(
          'already_exists',
          answer.idempotencyKey === request.idempotencyKey
            ? `idempotency key ${request.idempotencyKey} was already used for another hold`
            : `order ${request.orderId} already holds ${answer.seats} seats of this stock`,
        ),
      };
    }
    return { booking: answer };
  }

  private find(request: HoldRequest): Booking | undefined {
    return this.byKey.get(request.idempotencyKey) ?? this.byOrder.get(request.orderId);
  }
}
