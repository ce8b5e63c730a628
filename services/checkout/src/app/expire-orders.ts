import type { Executor } from '@ticket/platform';
import { findOverdueOrders, firstPaymentAttempt, orderStatus, ownsAnyBooking } from '../db/order-repository.ts';
import { holdsState } from '../domain/order.ts';
import type { CheckoutContext } from './context.ts';
import { applyTransition, completePaid, transition } from './transitions.ts';

/**
 * Booking's expiry job released holds of the order (BookingsExpired): inside the consumer's transaction, which
 * also records the event id, CREATED → EXPIRED with its event. Only when the event names one of the order's own
 * holds (an item's booking id): a stray booking under the order id (a hold of an attempt that never became this
 * order) lapsing says nothing about the order's seats. Orders that are no longer CREATED (paid, cancelled, already
 * expired) or that never committed are left alone.
 */
export async function expireOrderOnLapsedHolds(
  tx: Executor,
  context: CheckoutContext,
  orderId: string,
  bookingIds: readonly string[],
) {
  if (!(await ownsAnyBooking(tx, orderId, bookingIds))) {
    context.logger.info({ orderId, bookingIds }, 'expired holds are none of the order’s own; order left alone');
    return false;
  }
  return (await applyTransition(tx, context, orderId, { status: 'EXPIRED' })) !== undefined;
}

export interface OverdueCheckResult {
  expired: number;
  paid: number;
  skipped: number;
}

/**
 * The safety net for a lost BookingsExpired event: CREATED orders past expires_at (plus a grace period that lets
 * the event arrive first), up to EXPIRY_CHECK_BATCH_SIZE per run, the least recently checked first. Booking is asked what became of each order's holds first: all sold with a recorded
 * payment means a MarkOrderAsPaid died between booking's sale and the PAID update, so the order becomes PAID;
 * otherwise its remaining holds are released and it becomes EXPIRED.
 */
export async function checkOverdueOrders(context: CheckoutContext): Promise<OverdueCheckResult> {
  const result: OverdueCheckResult = { expired: 0, paid: 0, skipped: 0 };
  const ids = await findOverdueOrders(
    context.db,
    context.config.EXPIRY_CHECK_GRACE_SECONDS,
    context.config.EXPIRY_CHECK_BATCH_SIZE,
  );
  for (const id of ids) {
    try {
      const outcome = await settleOverdueOrder(context, id);
      result[outcome] += 1;
    } catch (error) {
      result.skipped += 1;
      context.logger.warn({ err: error, orderId: id }, 'overdue order check failed; the next run retries');
    }
  }
  return result;
}

async function settleOverdueOrder(context: CheckoutContext, orderId: string): Promise<keyof OverdueCheckResult> {
  if ((await orderStatus(context.db, orderId)) !== 'CREATED') return 'skipped';
  let holds = await context.seats.list(orderId);
  const live = holds.filter((hold) => hold.status === 'HELD').map((hold) => hold.id);
  if (live.length > 0) {
    // Past its expiry a hold cannot be sold any more; release it now rather than wait for booking's sweep, then
    // look again: a sale that slipped in before the release shows up as SOLD.
    await context.seats.release(orderId, live);
    holds = await context.seats.list(orderId);
  }
  const state = holdsState(holds);
  if (state === 'all-sold') {
    const payment = await firstPaymentAttempt(context.db, orderId);
    if (!payment) {
      context.logger.error({ orderId }, 'order sold in booking without a recorded payment; left for an operator');
      return 'skipped';
    }
    await completePaid(context, orderId, payment);
    context.logger.info({ orderId }, 'completed a sold order whose payment was recorded but not finished');
    return 'paid';
  }
  if (state === 'some-sold') {
    context.logger.error({ orderId }, 'order partly sold in booking; left for an operator');
    return 'skipped';
  }
  return (await transition(context, orderId, { status: 'EXPIRED' })) ? 'expired' : 'skipped';
}
