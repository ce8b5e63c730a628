import { randomUUID } from 'node:crypto';
import {
  applyPayOutcome,
  applyRefund,
  assertPayable,
  PaymentError,
  type PayOutcome,
  type SandboxEvent,
  type SandboxPayment,
  type SandboxRefund,
} from './payments.ts';
import { JsonStateFile } from './state-file.ts';

export interface CreatePaymentInput {
  amount_minor: number;
  currency: string;
  order_id: string;
  description: string;
}

export interface CreateRefundInput {
  payment_id: string;
  amount_minor: number;
}

/** One webhook delivery still to be acknowledged; a redelivery of the same event is a second one. */
export interface PendingDelivery {
  id: string;
  event_id: string;
  /** Attempts made so far. */
  attempts: number;
  /** Epoch milliseconds. */
  next_attempt_at: number;
}

/** A "pay late": the buyer's outcome, applied when it is due. */
export interface ScheduledPay {
  id: string;
  payment_id: string;
  outcome: PayOutcome;
  /** Epoch milliseconds. */
  due_at: number;
}

interface IdempotencyRecord {
  /** The payment or refund the key made. */
  id: string;
  /** The request it made it from: the same key with another request is refused. */
  fingerprint: string;
}

interface SandboxState {
  version: 1;
  payments: Record<string, SandboxPayment>;
  refunds: Record<string, SandboxRefund>;
  events: Record<string, SandboxEvent>;
  /** `payment:<key>` and `refund:<key>`: a key used for a payment may be used again for a refund. */
  idempotency: Record<string, IdempotencyRecord>;
  deliveries: Record<string, PendingDelivery>;
  scheduled_pays: Record<string, ScheduledPay>;
}

const emptyState = (): SandboxState => ({
  version: 1,
  payments: {},
  refunds: {},
  events: {},
  idempotency: {},
  deliveries: {},
  scheduled_pays: {},
});

const unixSeconds = (): number => Math.floor(Date.now() / 1000);

/**
 * The sandbox's state and every change to it. A change and the webhook delivery it causes are saved in the same
 * write (the state file is the outbox), and each method resolves only once that write is on disk, so an answered
 * request survives a crash and a retried one finds its idempotency key.
 */
export class PaymentStore {
  readonly #file: JsonStateFile<SandboxState>;
  readonly #state: SandboxState;
  readonly #payUrl: (paymentId: string) => string;
  readonly #listeners: (() => void)[] = [];

  private constructor(file: JsonStateFile<SandboxState>, state: SandboxState, payUrl: (paymentId: string) => string) {
    this.#file = file;
    this.#state = state;
    this.#payUrl = payUrl;
  }

  /** The store saved in `path` (empty when there is none yet). `payUrl` gives a new payment its pay page. */
  static async open(path: string, payUrl: (paymentId: string) => string): Promise<PaymentStore> {
    const file = new JsonStateFile<SandboxState>(path);
    const saved = await file.read();
    if (saved !== undefined && saved.version !== 1) {
      throw new Error(`${path}: state version ${String(saved.version)}, expected 1`);
    }
    return new PaymentStore(file, { ...emptyState(), ...saved }, payUrl);
  }

  /** Called after every saved change: the dispatcher and the scheduler look for new work. */
  onChange(listener: () => void): void {
    this.#listeners.push(listener);
  }

  async createPayment(idempotencyKey: string, input: CreatePaymentInput): Promise<SandboxPayment> {
    const existing = this.#replay(`payment:${idempotencyKey}`, input);
    if (existing !== undefined) return this.#replayed(this.getPayment(existing));
    const id = `pay_${randomUUID()}`;
    const payment: SandboxPayment = {
      id,
      object: 'payment',
      status: 'requires_payment',
      amount_minor: input.amount_minor,
      amount_refunded_minor: 0,
      currency: input.currency,
      order_id: input.order_id,
      description: input.description,
      pay_url: this.#payUrl(id),
      failure_reason: null,
      created: unixSeconds(),
    };
    this.#state.payments[id] = payment;
    this.#state.idempotency[`payment:${idempotencyKey}`] = { id, fingerprint: fingerprint(input) };
    await this.#commit();
    return payment;
  }

  getPayment(id: string): SandboxPayment {
    const payment = this.#state.payments[id];
    if (payment === undefined) throw new PaymentError('not_found', `no payment ${id}`);
    return payment;
  }

  async pay(paymentId: string, outcome: PayOutcome): Promise<SandboxPayment> {
    const { payment, eventType } = applyPayOutcome(this.getPayment(paymentId), outcome);
    this.#state.payments[paymentId] = payment;
    this.#emit({ type: eventType, object: payment });
    await this.#commit();
    return payment;
  }

  /** Accepts the outcome now (a payment that already succeeded is refused at once) and applies it `delayMs` later. */
  async schedulePay(paymentId: string, outcome: PayOutcome, delayMs: number): Promise<SandboxPayment> {
    const payment = this.getPayment(paymentId);
    assertPayable(payment);
    const id = randomUUID();
    this.#state.scheduled_pays[id] = { id, payment_id: paymentId, outcome, due_at: Date.now() + delayMs };
    await this.#commit();
    return payment;
  }

  scheduledPays(): ScheduledPay[] {
    return Object.values(this.#state.scheduled_pays);
  }

  /**
   * Applies a scheduled outcome and forgets it, in one write. Refused when the payment succeeded meanwhile (paid
   * twice, once late): the error is returned for the log, as there is no one left to answer.
   */
  async runScheduledPay(id: string): Promise<PaymentError | undefined> {
    const scheduled = this.#state.scheduled_pays[id];
    if (scheduled === undefined) return undefined;
    delete this.#state.scheduled_pays[id];
    try {
      const { payment, eventType } = applyPayOutcome(this.getPayment(scheduled.payment_id), scheduled.outcome);
      this.#state.payments[payment.id] = payment;
      this.#emit({ type: eventType, object: payment });
      return undefined;
    } catch (error) {
      if (error instanceof PaymentError) return error;
      throw error;
    } finally {
      await this.#commit();
    }
  }

  async refund(idempotencyKey: string, input: CreateRefundInput): Promise<SandboxRefund> {
    const existing = this.#replay(`refund:${idempotencyKey}`, input);
    if (existing !== undefined) return this.#replayed(this.#getRefund(existing));
    const paid = applyRefund(this.getPayment(input.payment_id), input.amount_minor);
    const refund: SandboxRefund = {
      id: `re_${randomUUID()}`,
      object: 'refund',
      payment_id: paid.id,
      order_id: paid.order_id,
      amount_minor: input.amount_minor,
      currency: paid.currency,
      status: 'succeeded',
      created: unixSeconds(),
    };
    this.#state.payments[paid.id] = paid;
    this.#state.refunds[refund.id] = refund;
    this.#state.idempotency[`refund:${idempotencyKey}`] = { id: refund.id, fingerprint: fingerprint(input) };
    this.#emit({ type: 'refund.succeeded', object: refund });
    await this.#commit();
    return refund;
  }

  /** Events in the order they happened, those of one payment (or its refunds) when `paymentId` is given. */
  listEvents(paymentId?: string): SandboxEvent[] {
    const events = Object.values(this.#state.events);
    if (paymentId === undefined) return events;
    return events.filter((event) =>
      event.type === 'refund.succeeded'
        ? event.data.object.payment_id === paymentId
        : event.data.object.id === paymentId,
    );
  }

  event(id: string): SandboxEvent | undefined {
    return this.#state.events[id];
  }

  /** Delivers the event once more, as a PSP's "resend" button does: the receiver sees a duplicate. */
  async redeliver(eventId: string): Promise<void> {
    if (this.#state.events[eventId] === undefined) throw new PaymentError('not_found', `no event ${eventId}`);
    this.#queueDelivery(eventId);
    await this.#commit();
  }

  pendingDeliveries(): PendingDelivery[] {
    return Object.values(this.#state.deliveries);
  }

  async deliveryAcknowledged(deliveryId: string): Promise<void> {
    delete this.#state.deliveries[deliveryId];
    await this.#commit();
  }

  async deliveryFailed(deliveryId: string, nextAttemptAt: number): Promise<void> {
    const delivery = this.#state.deliveries[deliveryId];
    if (delivery === undefined) return;
    this.#state.deliveries[deliveryId] = {
      ...delivery,
      attempts: delivery.attempts + 1,
      next_attempt_at: nextAttemptAt,
    };
    await this.#commit();
  }

  /** Waits for every save asked for so far. */
  flush(): Promise<void> {
    return this.#file.flush();
  }

  /** The id the key made before, when the request is the same; a conflict when it is not. */
  #replay(key: string, input: object): string | undefined {
    const record = this.#state.idempotency[key];
    if (record === undefined) return undefined;
    if (record.fingerprint !== fingerprint(input)) {
      throw new PaymentError('idempotency_conflict', 'this Idempotency-Key was used with another request');
    }
    return record.id;
  }

  /** A concurrent first request may still be saving what the key made: answer once it is on disk, as it will. */
  async #replayed<T>(made: T): Promise<T> {
    await this.#file.flush();
    return made;
  }

  #getRefund(id: string): SandboxRefund {
    const refund = this.#state.refunds[id];
    if (refund === undefined) throw new PaymentError('not_found', `no refund ${id}`);
    return refund;
  }

  #emit(change: { type: 'payment.succeeded' | 'payment.failed'; object: SandboxPayment }): void;
  #emit(change: { type: 'refund.succeeded'; object: SandboxRefund }): void;
  #emit({ type, object }: { type: SandboxEvent['type']; object: SandboxPayment | SandboxRefund }): void {
    const id = `evt_${randomUUID()}`;
    // A copy: the event keeps the object as it was, whatever happens to the payment afterwards.
    this.#state.events[id] = {
      id,
      object: 'event',
      type,
      created: unixSeconds(),
      data: { object: { ...object } },
    } as SandboxEvent;
    this.#queueDelivery(id);
  }

  #queueDelivery(eventId: string): void {
    const id = randomUUID();
    this.#state.deliveries[id] = { id, event_id: eventId, attempts: 0, next_attempt_at: Date.now() };
  }

  async #commit(): Promise<void> {
    await this.#file.save(() => this.#state);
    for (const listener of this.#listeners) listener();
  }
}

/** The request, independent of the order its fields came in. */
function fingerprint(input: object): string {
  return JSON.stringify(Object.entries(input).sort(([a], [b]) => a.localeCompare(b)));
}
