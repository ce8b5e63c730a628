import { randomUUID } from 'node:crypto';
import { findOrder, markOrderRefunded } from '../db/order-repository.ts';
import {
  findRefund,
  findRefundByProviderId,
  markRefundAccepted,
  markRefundAttemptFailed,
  markRefundCompleted,
  markRefundSucceeded,
  scheduleAutomaticRefund,
  takeDueRefunds,
  voidTickets,
} from '../db/payment-repository.ts';
import type { Order } from '../domain/order.ts';
import { nextRefundAttemptDelayMs, type Payment, type Refund, statusAfterRefund } from '../domain/payment.ts';
import { recordOrderEvent } from '../events/order-events.ts';
import type { CheckoutContext } from './context.ts';

// Refunds go through these states (the README draws them):
//   PENDING  — decided and recorded; the provider is asked (again and again, with backoff, until it confirms)
//   SUCCEEDED — the provider returned the money
//   completed — what follows the money is done, in this order: the seats are back on sale in booking (once per
//               refund, by its id), then one transaction voids the tickets, moves the order to REFUNDED or
//               PARTIALLY_REFUNDED and writes the event the buyer is emailed from.
// Seats are never released before the money is returned, and a refund whose money was returned is completed by
// the retry job even if booking or the database failed in between.

/** Long enough for one refund's provider call and booking call; a run that dies leaves the refund to the next. */
const REFUND_LEASE_MS = 60_000;

/**
 * A succeeded payment that bought nothing (the order ended before it, or another payment paid it): refunded in full,
 * automatically and once per payment, however many webhooks announce it.
 */
export async function refundPaymentThatBoughtNothing(
  context: CheckoutContext,
  payment: Payment,
  reason: 'LATE_PAYMENT' | 'DUPLICATE_PAYMENT',
): Promise<Refund> {
  const refund = await scheduleAutomaticRefund(context.db, {
    id: randomUUID(),
    orderId: payment.orderId,
    provider: payment.provider,
    paymentId: payment.id,
    amountMinor: payment.amountMinor,
    currency: payment.currency,
    reason,
  });
  await processRefundQuietly(context, refund.id);
  return refund;
}

/**
 * The provider's webhook confirmed a refund (for one it had answered "pending"): the same completion as when its
 * API answers "succeeded". A refund the webhook names before its API call was recorded is left to the retry job.
 */
export async function settleRefundConfirmed(context: CheckoutContext, providerRefundId: string): Promise<string> {
  const refund = await findRefundByProviderId(context.db, context.payments.name, providerRefundId);
  if (!refund) return 'unknown_refund';
  await markRefundSucceeded(context.db, refund.id, providerRefundId);
  await processRefund(context, refund.id);
  return 'refund_confirmed';
}

/** processRefund, logging instead of throwing: the retry job takes the refund up again later. */
export async function processRefundQuietly(context: CheckoutContext, refundId: string): Promise<void> {
  try {
    await processRefund(context, refundId);
  } catch (error) {
    context.logger.warn({ err: error, refundId }, 'refund not finished; the retry job takes it up again');
  }
}

/**
 * Takes one refund as far as it can go: asks the provider (our refund id is the idempotency key, so a repeat never
 * refunds twice), then completes it. A provider failure is recorded with the time of the next try.
 */
export async function processRefund(context: CheckoutContext, refundId: string): Promise<Refund | undefined> {
  let refund = await findRefund(context.db, refundId);
  if (!refund || refund.completedAt !== null) return refund;
  if (refund.status === 'PENDING') {
    try {
      const result = await context.payments.refund({
        paymentId: refund.paymentId,
        amount: { amountMinor: refund.amountMinor, currency: refund.currency },
        idempotencyKey: refund.id,
      });
      if (result.status === 'pending') {
        await markRefundAccepted(context.db, refund.id, result.refundId, nextRefundAttemptDelayMs(1));
        return refund;
      }
      await markRefundSucceeded(context.db, refund.id, result.refundId);
    } catch (error) {
      await markRefundAttemptFailed(
        context.db,
        refund.id,
        error instanceof Error ? error.message : String(error),
        nextRefundAttemptDelayMs(refund.attempts + 1),
      );
      throw error;
    }
    refund = (await findRefund(context.db, refundId)) ?? refund;
  }
  await completeRefund(context, refund);
  return findRefund(context.db, refundId);
}

/** After the money: seats back on sale (a requested refund), then tickets void, order status and event at once. */
async function completeRefund(context: CheckoutContext, refund: Refund): Promise<void> {
  const order = await findOrder(context.db, refund.orderId);
  if (!order) return;
  if (refund.reason === 'REQUESTED') {
    await context.seats.returnSold(order.id, seatsOf(order, refund.ticketCodes), refund.id);
  }
  const completed = await context.db.transaction(async (tx) => {
    if (!(await markRefundCompleted(tx, refund.id))) return false;
    if (refund.reason === 'REQUESTED') {
      await voidTickets(tx, refund.id);
      const voided = (await findOrder(tx, order.id))?.tickets.filter((ticket) => ticket.voided).length ?? 0;
      await markOrderRefunded(tx, order.id, statusAfterRefund(voided, order.tickets.length));
    }
    const after = await findOrder(tx, order.id);
    const done = after?.refunds.find((candidate) => candidate.id === refund.id);
    if (after && done) {
      const type = refund.reason === 'REQUESTED' ? 'REFUNDED' : 'LATE_PAYMENT_REFUNDED';
      await recordOrderEvent(tx, context.config.ORDER_EVENTS_TOPIC, type, after, { refund: done });
    }
    return true;
  });
  if (completed) context.eventsCommitted();
}

/** The seats of the refunded tickets, per ticket type: what booking puts back on sale. */
function seatsOf(order: Order, codes: readonly string[]) {
  const refunded = new Set(codes);
  const byType = new Map<string, { eventId: string; ticketTypeId: string; seats: number }>();
  for (const ticket of order.tickets.filter((candidate) => refunded.has(candidate.code))) {
    const entry = byType.get(ticket.ticketTypeId) ?? {
      eventId: ticket.eventId,
      ticketTypeId: ticket.ticketTypeId,
      seats: 0,
    };
    entry.seats += 1;
    byType.set(ticket.ticketTypeId, entry);
  }
  return [...byType.values()];
}

/** The retry job: every unfinished refund whose next try is due, one after another. */
export async function processDueRefunds(context: CheckoutContext, batchSize: number): Promise<{ processed: number }> {
  const due = await takeDueRefunds(context.db, batchSize, REFUND_LEASE_MS);
  for (const refundId of due) await processRefundQuietly(context, refundId);
  return { processed: due.length };
}
