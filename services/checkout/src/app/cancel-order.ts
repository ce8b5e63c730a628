import { failedPrecondition } from '@ticket/platform';
import { findOrder } from '../db/order-repository.ts';
import { notChangeable, type Order } from '../domain/order.ts';
import type { CheckoutContext } from './context.ts';
import { findOwnOrder } from './orders.ts';
import { transition } from './transitions.ts';

/**
 * CancelOrder: releases exactly this order's holds in booking (ExpireBookings with its booking ids), then CREATED →
 * CANCELLED. Booking serialises the release with a payment's sale of the same holds, so afterwards it tells who
 * won: if the seats are sold, the payment did and the cancellation is refused.
 */
export async function cancelOrder(context: CheckoutContext, userId: string, orderId: string): Promise<Order> {
  const order = await findOwnOrder(context, userId, orderId);
  if (order.status !== 'CREATED') throw notChangeable(order, 'cancelled');
  const bookingIds = order.items.flatMap((item) => (item.bookingId ? [item.bookingId] : []));
  if (bookingIds.length > 0) await context.seats.release(order.id, bookingIds);
  const holds = await context.seats.list(order.id);
  if (holds.some((hold) => hold.status === 'SOLD')) {
    throw failedPrecondition(`order ${order.id} cannot be cancelled: it was paid meanwhile`);
  }
  const cancelled = await transition(context, order.id, { status: 'CANCELLED' });
  if (cancelled) return cancelled;
  const current = await findOrder(context.db, order.id);
  throw notChangeable(current ?? order, 'cancelled');
}
