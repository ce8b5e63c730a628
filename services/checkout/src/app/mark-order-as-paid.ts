import { alreadyExists, failedPrecondition } from '@ticket/platform';
import { findOrder, recordPaymentAttempt } from '../db/order-repository.ts';
import { type Hold, notChangeable, type Order } from '../domain/order.ts';
import type { CheckoutContext } from './context.ts';
import { findOwnOrder } from './orders.ts';
import { completePaid, type Payment, transition } from './transitions.ts';

export interface MarkOrderAsPaidCommand extends Payment {
  userId: string;
  orderId: string;
}

/**
 * MarkOrderAsPaid. Booking decides whether the seats can still be sold: the payment is recorded first, then
 * booking sells every hold of the order or none (DeleteOrderBookings; a repeat after success answers OK), then one
 * transaction makes the order PAID with its tickets and event. Holds that ended (expired or released) make the
 * order EXPIRED with the payment to refund in the event, and the caller gets FAILED_PRECONDITION.
 */
export async function markOrderAsPaid(context: CheckoutContext, command: MarkOrderAsPaidCommand): Promise<Order> {
  return payOrder(context, await findOwnOrder(context, command.userId, command.orderId), command);
}

/**
 * Pays `order` with `payment`: the box office's MarkOrderAsPaid and the provider's succeeded webhook alike. A
 * FAILED_PRECONDITION says the payment bought nothing (the order ended, or another payment paid it) and is owed back.
 */
export async function payOrder(context: CheckoutContext, order: Order, command: Payment): Promise<Order> {
  if (order.status === 'PAID') return answerRepeat(order, command);
  if (order.status !== 'CREATED') throw notPayable(order, command);

  // Recorded before booking sells: should this process die between booking's sale and the PAID update, the
  // expiry check finds sold bookings plus this record and completes the order as PAID.
  const recorded = await recordPaymentAttempt(context.db, {
    orderId: order.id,
    idempotencyKey: command.idempotencyKey,
    paymentReference: command.paymentReference,
  });
  // Ended meanwhile (a cancellation or the expiry won): this payment bought nothing.
  if (recorded === undefined) throw notPayable((await findOrder(context.db, order.id)) ?? order, command);
  if (recorded !== command.paymentReference) {
    throw alreadyExists(`a payment with idempotency_key ${command.idempotencyKey} and another payment_reference`);
  }

  // No caller signal: once asked, booking's answer must be recorded here even if the caller went away.
  const sale = await context.seats.sell(order.id);
  if ('sold' in sale) return completePaid(context, order.id, command);

  // Holds that lapsed expire the order here, naming this payment as the refund. Holds that were released were
  // released by a cancellation (or the overdue check) that is about to record its own outcome: leave it to them.
  const holds = await context.seats.list(order.id);
  const releasedByOther = holds.some((hold) => hold.status === 'RELEASED') && !holds.some(isLapsed);
  if (!releasedByOther) {
    await transition(context, order.id, { status: 'EXPIRED', refundPaymentReference: command.paymentReference });
  }
  throw failedPrecondition(
    `order ${order.id} cannot be paid: ${releasedByOther ? 'its seats were released' : 'its seat holds expired'} ` +
      `(${sale.unpayable}); payment ${command.paymentReference} must be refunded`,
  );
}

const isLapsed = (hold: Hold): boolean =>
  hold.status === 'EXPIRED' || (hold.status === 'HELD' && hold.expiresAt.getTime() <= Date.now());

/** The order is PAID already: by this very payment (a repeat) it answers the paid order, else it is too late. */
function answerRepeat(order: Order, command: Payment): Order {
  if (order.paymentIdempotencyKey !== command.idempotencyKey) throw notPayable(order, command);
  if (order.paymentReference !== command.paymentReference) {
    throw alreadyExists(`a payment with idempotency_key ${command.idempotencyKey} and another payment_reference`);
  }
  return order;
}

function notPayable(order: Order, command: Payment) {
  const refusal = notChangeable(order, 'paid');
  return failedPrecondition(`${refusal.message}; payment ${command.paymentReference} must be refunded`);
}
