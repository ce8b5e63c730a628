import { type Executor, failedPrecondition } from '@ticket/platform';
import {
  findOrder,
  firstPaymentAttempt,
  insertTickets,
  setRefundPaymentReference,
  type Transition,
  transitionOrder,
} from '../db/order-repository.ts';
import { issueTickets, type Order } from '../domain/order.ts';
import { recordOrderEvent } from '../events/order-events.ts';
import type { CheckoutContext } from './context.ts';

// The order's status changes, each one transaction: the conditional UPDATE, what goes with it, and its event.

/**
 * CREATED → `transition.status` in `tx`, with its event; returns the changed order, or undefined when the order
 * was no longer CREATED (another transition won the race).
 */
export async function applyTransition(
  tx: Executor,
  context: CheckoutContext,
  orderId: string,
  transition: Transition,
): Promise<Order | undefined> {
  if (!(await transitionOrder(tx, orderId, transition))) return undefined;
  const owed = transition.refundPaymentReference ?? (await refundOwed(tx, orderId, transition));
  if (owed !== undefined && transition.refundPaymentReference === undefined) {
    await setRefundPaymentReference(tx, orderId, owed);
  }
  const changed = await findOrder(tx, orderId);
  if (!changed) throw new Error(`order ${orderId} vanished inside its transition`);
  const order = transition.status === 'PAID' ? await withTicketsIssued(tx, changed) : changed;
  await recordOrderEvent(tx, context.config.ORDER_EVENTS_TOPIC, transition.status, order, {
    refundPaymentReference: owed ?? '',
  });
  return order;
}

/** A CREATED order just made PAID gets one ticket per seat; a CREATED order has none yet, so they are all it has. */
async function withTicketsIssued(tx: Executor, paid: Order): Promise<Order> {
  const issued = issueTickets(paid.items);
  await insertTickets(tx, paid.id, issued);
  return { ...paid, tickets: issued };
}

/**
 * An order that ends CANCELLED or EXPIRED after a payment was recorded for it (a payment that raced a cancellation
 * or the expiry) owes that payment back: its terminal event names it, so the refund is never forgotten. Read after
 * the conditional UPDATE, which holds the order row: a payment being recorded (it share-locks the row while
 * CREATED) has either committed by now and is seen here, or finds the order ended and records nothing.
 */
async function refundOwed(tx: Executor, orderId: string, transition: Transition): Promise<string | undefined> {
  if (transition.status === 'PAID' || transition.status === 'FAILED') return undefined;
  return (await firstPaymentAttempt(tx, orderId))?.paymentReference;
}

/** applyTransition in a transaction of its own; wakes the outbox relay when it committed a change. */
export async function transition(
  context: CheckoutContext,
  orderId: string,
  change: Transition,
): Promise<Order | undefined> {
  const order = await context.db.transaction((tx) => applyTransition(tx, context, orderId, change));
  if (order) context.eventsCommitted();
  return order;
}

export interface Payment {
  idempotencyKey: string;
  paymentReference: string;
}

/**
 * Booking sold the order's seats: CREATED → PAID with one ticket per seat. When another transition came first, the
 * answer depends on who: this same payment (a repeat) gets the paid order, anything else FAILED_PRECONDITION.
 */
export async function completePaid(context: CheckoutContext, orderId: string, payment: Payment): Promise<Order> {
  const paid = await transition(context, orderId, {
    status: 'PAID',
    paymentReference: payment.paymentReference,
    paymentIdempotencyKey: payment.idempotencyKey,
  });
  if (paid) return paid;
  const current = await findOrder(context.db, orderId);
  if (current?.status === 'PAID' && current.paymentIdempotencyKey === payment.idempotencyKey) return current;
  throw failedPrecondition(
    current?.status === 'PAID'
      ? `order ${orderId} was already paid by another payment; payment ${payment.paymentReference} must be refunded`
      : `order ${orderId} cannot be paid: it is ${current?.status.toLowerCase() ?? 'gone'}`,
  );
}
