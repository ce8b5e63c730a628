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
import { type JournalEntry, JournaledStateFile } from './state-file.ts';

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

/** The parts of the state a change writes to, each a record of records by key. */
type Collection = Exclude<keyof SandboxState, 'version'>;

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
 * journal entry (the state file is the outbox), and each method resolves only once that entry is on disk, so an
 * answered request survives a crash and a retried one finds its idempotency key. Records are written only through
 * `#put` and `#delete`, which note what the change touched, so nothing changes without being saved.
 */
export class PaymentStore {
  readonly #file: JournaledStateFile<SandboxState>;
  readonly #state: SandboxState;
  readonly #payUrl: (paymentId: string) => string;
  readonly #listeners: (() => void)[] = [];
  /** The records changed since the last commit, by collection: the next journal entry. */
  #touched = new Map<Collection, Set<string>>();

  private constructor(file: JournaledStateFile<SandboxState>, payUrl: (paymentId: string) => string) {
    this.#file = file;
    this.#state = file.state;
    this.#payUrl = payUrl;
  }

  /**
   * The store saved in `path` and its journal (empty when there is none yet); a state file written whole by an
   * older sandbox loads as the snapshot. `payUrl` gives a new payment its pay page.
   */
  static async open(path: string, payUrl: (paymentId: string) => string): Promise<PaymentStore> {
    const file = await JournaledStateFile.open(path, (saved) => loadState(path, saved));
    return new PaymentStore(file, payUrl);
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
    this.#put('payments', id, payment);
    this.#put('idempotency', `payment:${idempotencyKey}`, { id, fingerprint: fingerprint(input) });
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
    this.#put('payments', paymentId, payment);
    this.#emit({ type: eventType, object: payment });
    await this.#commit();
    return payment;
  }

  /** Accepts the outcome now (a payment that already succeeded is refused at once) and applies it `delayMs` later. */
  async schedulePay(paymentId: string, outcome: PayOutcome, delayMs: number): Promise<SandboxPayment> {
    const payment = this.getPayment(paymentId);
    assertPayable(payment);
    const id = randomUUID();
    this.#put('scheduled_pays', id, { id, payment_id: paymentId, outcome, due_at: Date.now() + delayMs });
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
    this.#delete('scheduled_pays', id);
    try {
      const { payment, eventType } = applyPayOutcome(this.getPayment(scheduled.payment_id), scheduled.outcome);
      this.#put('payments', payment.id, payment);
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
    this.#put('payments', paid.id, paid);
    this.#put('refunds', refund.id, refund);
    this.#put('idempotency', `refund:${idempotencyKey}`, { id: refund.id, fingerprint: fingerprint(input) });
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
    this.#delete('deliveries', deliveryId);
    await this.#commit();
  }

  async deliveryFailed(deliveryId: string, nextAttemptAt: number): Promise<void> {
    const delivery = this.#state.deliveries[deliveryId];
    if (delivery === undefined) return;
    this.#put('deliveries', deliveryId, {
      ...delivery,
      attempts: delivery.attempts + 1,
      next_attempt_at: nextAttemptAt,
    });
    await this.#commit();
  }

  /** Waits for every save asked for so far. */
  flush(): Promise<void> {
    return this.#file.flush();
  }

  /** Waits for every save asked for so far and folds the journal into the state file; no change is taken after. */
  close(): Promise<void> {
    return this.#file.close();
  }

  /** Journal writes since opening, each flushed to disk once: concurrent changes share one (for tests). */
  get journalWrites(): number {
    return this.#file.writes;
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
    this.#put('events', id, {
      id,
      object: 'event',
      type,
      created: unixSeconds(),
      data: { object: { ...object } },
    } as SandboxEvent);
    this.#queueDelivery(id);
  }

  #queueDelivery(eventId: string): void {
    const id = randomUUID();
    this.#put('deliveries', id, { id, event_id: eventId, attempts: 0, next_attempt_at: Date.now() });
  }

  #put<C extends Collection>(collection: C, key: string, value: SandboxState[C][string]): void {
    this.#state[collection][key] = value;
    this.#touch(collection, key);
  }

  #delete(collection: Collection, key: string): void {
    delete this.#state[collection][key];
    this.#touch(collection, key);
  }

  #touch(collection: Collection, key: string): void {
    const keys = this.#touched.get(collection) ?? new Set<string>();
    keys.add(key);
    this.#touched.set(collection, keys);
  }

  /** Saves what was touched since the last commit as one journal entry, then tells the listeners. */
  async #commit(): Promise<void> {
    await this.#file.append(this.#takeEntry());
    for (const listener of this.#listeners) listener();
  }

  /**
   * Each touched record as it is now: put when it is there, deleted when it is not. Taken from the state rather than
   * from the calls, so a record put then deleted in one change is saved as what it ended as, once.
   */
  #takeEntry(): JournalEntry {
    const entry: JournalEntry = { put: [], delete: [] };
    for (const [collection, keys] of this.#touched) {
      const records: Record<string, unknown> = this.#state[collection];
      for (const key of keys) {
        if (Object.hasOwn(records, key)) entry.put.push([collection, key, records[key]]);
        else entry.delete.push([collection, key]);
      }
    }
    this.#touched = new Map();
    return entry;
  }
}

/** The saved snapshot over an empty state, so a collection added since it was written starts empty. */
function loadState(path: string, saved: unknown): SandboxState {
  if (saved === undefined) return emptyState();
  if (typeof saved !== 'object' || saved === null) throw new Error(`${path}: not a state object`);
  const version = (saved as { version?: unknown }).version;
  if (version !== 1) throw new Error(`${path}: state version ${String(version)}, expected 1`);
  return { ...emptyState(), ...(saved as Partial<SandboxState>) };
}

/** The request, independent of the order its fields came in. */
function fingerprint(input: object): string {
  return JSON.stringify(Object.entries(input).sort(([a], [b]) => a.localeCompare(b)));
}
