import { notFound } from '@ticket/platform';
import {
  listOrderBookings,
  lockOrderBookings,
  markOrderSold,
  releaseOrderHolds,
  seatsPerStock,
} from '../db/booking-repository.ts';
import { returnSeats } from '../db/stock-repository.ts';
import { type Booking, type BookingStatus, orderNotPayable, unpayableReason } from '../domain/booking.ts';
import type { BookingContext } from './context.ts';

/** GetBookings: an order's live and sold bookings, and its ended ones when asked. */
export function getBookings(context: BookingContext, orderId: string, includeEnded: boolean): Promise<Booking[]> {
  const statuses: BookingStatus[] = includeEnded ? ['HELD', 'SOLD', 'RELEASED', 'EXPIRED'] : ['HELD', 'SOLD'];
  return listOrderBookings(context.db, orderId, statuses);
}

/**
 * ExpireBookings: releases the named live holds of the order and gives their seats back, in one
 * transaction. Holds that are not live (already released, expired, sold) or of another order are
 * untouched, so a repeated call releases nothing twice.
 */
export function releaseBookings(
  context: BookingContext,
  orderId: string,
  bookingIds: readonly string[],
): Promise<Booking[]> {
  return context.db.transaction(async (tx) => {
    // Lock the order's rows in the same order as payment does, so a cancel racing a payment waits
    // instead of deadlocking.
    await lockOrderBookings(tx, orderId);
    const released = await releaseOrderHolds(tx, orderId, bookingIds);
    await returnSeats(tx, seatsPerStock(released));
    return released;
  });
}

/**
 * DeleteOrderBookings (the order is paid): every live hold of the order becomes a sale, or none does.
 * The order's rows are locked first, so the expiry sweep (which skips locked rows) and a cancellation
 * cannot change them between the check and the update. The seats stay booked: only the status changes.
 */
export function sellOrderBookings(context: BookingContext, orderId: string): Promise<Booking[]> {
  return context.db.transaction(async (tx) => {
    const held = await lockOrderBookings(tx, orderId);
    if (held.length === 0) throw notFound(`bookings of order ${orderId}`);
    const reason = unpayableReason(held);
    if (reason) throw orderNotPayable(reason);
    await markOrderSold(tx, orderId);
    return held.map(({ lapsed: _, ...booking }) => ({ ...booking, status: 'SOLD' }));
  });
}
