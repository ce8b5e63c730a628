import type { Executor } from '@ticket/platform';
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Payment, Refund, RefundReason } from '../domain/payment.ts';
import { payments, refunds, tickets, webhookEvents } from './schema.ts';

type PaymentRow = typeof payments.$inferSelect;
type RefundRow = typeof refunds.$inferSelect;

const toPayment = ({ createdAt: _, updatedAt: __, failureReason: ___, ...row }: PaymentRow): Payment => row;
const toRefund = ({ idempotencyKey: _, nextAttemptAt: __, lastError: ___, ...row }: RefundRow): Refund => row;

/** Records the payment the provider created for an order; a repeat (same provider id) changes nothing. */
export async function insertPayment(db: Executor, payment: Omit<Payment, 'status'>): Promise<void> {
  await db.insert(payments).values(payment).onConflictDoNothing();
}

export async function findPayment(db: Executor, provider: string, id: string): Promise<Payment | undefined> {
  const [row] = await db
    .select()
    .from(payments)
    .where(and(eq(payments.provider, provider), eq(payments.id, id)));
  return row ? toPayment(row) : undefined;
}

/** The latest payment of each of the orders (one query). */
export async function latestPayments(db: Executor, orderIds: readonly string[]): Promise<Map<string, Payment>> {
  if (orderIds.length === 0) return new Map();
  const rows = await db
    .selectDistinctOn([payments.orderId])
    .from(payments)
    .where(inArray(payments.orderId, [...orderIds]))
    .orderBy(payments.orderId, sql`${payments.createdAt} desc`);
  return new Map(rows.map((row) => [row.orderId, toPayment(row)]));
}

/**
 * What the provider said of a payment. SUCCEEDED is final: a late "failed" (webhooks arrive out of order) does not
 * undo it. Returns whether the row changed.
 */
export async function setPaymentStatus(
  db: Executor,
  payment: Pick<Payment, 'provider' | 'id'>,
  status: 'SUCCEEDED' | 'FAILED',
  failureReason?: string,
): Promise<boolean> {
  const changed = await db
    .update(payments)
    .set({ status, failureReason: failureReason ?? null, updatedAt: sql`now()` })
    .where(
      and(
        eq(payments.provider, payment.provider),
        eq(payments.id, payment.id),
        sql`${payments.status} <> 'SUCCEEDED'`,
        sql`${payments.status} <> ${status}`,
      ),
    )
    .returning({ id: payments.id });
  return changed.length > 0;
}

/**
 * Records a webhook by its event id; returns false when it was recorded before (a redelivery), so that what must
 * happen once per event (an email) happens once.
 */
export async function recordWebhookEvent(
  db: Executor,
  event: { provider: string; eventId: string; kind: string; paymentId: string | null; outcome: string },
): Promise<boolean> {
  const inserted = await db
    .insert(webhookEvents)
    .values(event)
    .onConflictDoNothing()
    .returning({ eventId: webhookEvents.eventId });
  return inserted.length > 0;
}

export interface NewRefund {
  id: string;
  orderId: string;
  provider: string;
  paymentId: string;
  amountMinor: number;
  currency: string;
  reason: RefundReason;
  idempotencyKey?: string;
  ticketCodes?: string[];
}

/**
 * Schedules the automatic refund of a payment that bought nothing. A payment is refunded automatically once,
 * whatever the number of webhooks or racing calls announcing it: returns the refund that stands for it.
 */
export async function scheduleAutomaticRefund(db: Executor, refund: NewRefund): Promise<Refund> {
  await db.insert(refunds).values(refund).onConflictDoNothing();
  const [row] = await db
    .select()
    .from(refunds)
    .where(
      and(
        eq(refunds.provider, refund.provider),
        eq(refunds.paymentId, refund.paymentId),
        sql`${refunds.reason} <> 'REQUESTED'`,
      ),
    );
  if (!row) throw new Error(`refund of payment ${refund.paymentId} vanished`);
  return toRefund(row);
}

/** Inserts a requested refund unless one with its key exists; returns the one that stands under the key. */
export async function insertRequestedRefund(
  db: Executor,
  refund: NewRefund & { idempotencyKey: string },
): Promise<{ refund: Refund; created: boolean }> {
  // No conflict target: the id is derived from (order, key) too, so a concurrent duplicate collides on both.
  const inserted = await db.insert(refunds).values(refund).onConflictDoNothing().returning();
  if (inserted[0]) return { refund: toRefund(inserted[0]), created: true };
  const [row] = await db
    .select()
    .from(refunds)
    .where(and(eq(refunds.orderId, refund.orderId), eq(refunds.idempotencyKey, refund.idempotencyKey)));
  if (!row) throw new Error(`refund ${refund.idempotencyKey} of order ${refund.orderId} vanished`);
  return { refund: toRefund(row), created: false };
}

/**
 * Takes the tickets `codes` of the order for `refundId`, all or none: a ticket already taken by another refund
 * stays with it. Returns how many it took.
 */
export async function claimTickets(
  tx: Executor,
  orderId: string,
  codes: readonly string[],
  refundId: string,
): Promise<number> {
  const claimed = await tx
    .update(tickets)
    .set({ refundId })
    .where(and(eq(tickets.orderId, orderId), inArray(tickets.code, [...codes]), isNull(tickets.refundId)))
    .returning({ code: tickets.code });
  return claimed.length;
}

export async function findRefund(db: Executor, id: string, lock = false): Promise<Refund | undefined> {
  const query = db.select().from(refunds).where(eq(refunds.id, id));
  const [row] = lock ? await query.for('update') : await query;
  return row ? toRefund(row) : undefined;
}

export async function findRefundByProviderId(
  db: Executor,
  provider: string,
  providerRefundId: string,
): Promise<Refund | undefined> {
  const [row] = await db
    .select()
    .from(refunds)
    .where(and(eq(refunds.provider, provider), eq(refunds.providerRefundId, providerRefundId)));
  return row ? toRefund(row) : undefined;
}

/** The refunds of each of the orders, oldest first (one query). */
export async function refundsOf(db: Executor, orderIds: readonly string[]): Promise<Map<string, Refund[]>> {
  if (orderIds.length === 0) return new Map();
  const rows = await db
    .select()
    .from(refunds)
    .where(inArray(refunds.orderId, [...orderIds]))
    .orderBy(asc(refunds.createdAt), asc(refunds.id));
  return Map.groupBy(rows.map(toRefund), (refund) => refund.orderId);
}

/** The provider returned the money (confirmed now or by its webhook): PENDING → SUCCEEDED, once. */
export async function markRefundSucceeded(db: Executor, id: string, providerRefundId: string): Promise<void> {
  await db
    .update(refunds)
    .set({ status: 'SUCCEEDED', providerRefundId, refundedAt: sql`now()`, lastError: null })
    .where(and(eq(refunds.id, id), eq(refunds.status, 'PENDING')));
}

/** The provider accepted the refund but has not confirmed it: keep its id, wait for the webhook or the next try. */
export async function markRefundAccepted(db: Executor, id: string, providerRefundId: string, delayMs: number) {
  await db
    .update(refunds)
    .set({ providerRefundId, nextAttemptAt: sql`now() + ${delayMs}::int * interval '1 millisecond'` })
    .where(eq(refunds.id, id));
}

/** A try failed: count it, say why, and when to try again. */
export async function markRefundAttemptFailed(db: Executor, id: string, error: string, delayMs: number) {
  await db
    .update(refunds)
    .set({
      attempts: sql`${refunds.attempts} + 1`,
      lastError: error.slice(0, 500),
      nextAttemptAt: sql`now() + ${delayMs}::int * interval '1 millisecond'`,
    })
    .where(eq(refunds.id, id));
}

/** Everything that follows the money is done: returns false when another worker completed it first. */
export async function markRefundCompleted(tx: Executor, id: string): Promise<boolean> {
  const changed = await tx
    .update(refunds)
    .set({ completedAt: sql`now()` })
    .where(and(eq(refunds.id, id), eq(refunds.status, 'SUCCEEDED'), isNull(refunds.completedAt)))
    .returning({ id: refunds.id });
  return changed.length > 0;
}

/** Voids the tickets a refund took back (its money was returned). */
export async function voidTickets(tx: Executor, refundId: string): Promise<void> {
  await tx
    .update(tickets)
    .set({ voidedAt: sql`now()` })
    .where(and(eq(tickets.refundId, refundId), isNull(tickets.voidedAt)));
}

/**
 * Up to `limit` unfinished refunds whose next try is due, oldest first, each pushed back by `leaseMs` so that
 * another replica's run does not take it while this one works on it.
 */
export async function takeDueRefunds(db: Executor, limit: number, leaseMs: number): Promise<string[]> {
  const rows = await db.execute<{ id: string }>(sql`
    update checkout.refunds set next_attempt_at = now() + ${leaseMs}::int * interval '1 millisecond'
    where id in (
      select id from checkout.refunds
      where completed_at is null and next_attempt_at <= now()
      order by next_attempt_at asc
      limit ${limit}::int
      for update skip locked)
    returning id`);
  return rows.map((row) => row.id);
}
