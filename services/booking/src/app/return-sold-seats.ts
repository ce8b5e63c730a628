import { unavailable } from '@ticket/platform';
import { addReturnedSeats, lockOrderBookings } from '../db/booking-repository.ts';
import { findSeatReturn, insertSeatReturn } from '../db/seat-return-repository.ts';
import { returnSeats } from '../db/stock-repository.ts';
import type { Booking } from '../domain/booking.ts';
import {
  allocateReturn,
  type ReturnSoldSeatsCommand,
  returnedPerStock,
  returnFingerprint,
  returnKeyReused,
  withReturned,
} from '../domain/seat-return.ts';
import type { BookingContext } from './context.ts';

/**
 * ReturnSoldSeats (a refund): puts some sold seats of the order back on sale, all or nothing, in one transaction.
 *
 * The order's bookings are locked first, in id order as payment and cancellation lock them, so two returns of
 * one order (or a return racing a late payment) wait for each other instead of deadlocking, and each decides on
 * what the other committed: the key's record, and the seats already returned. A repeat with the same key finds
 * the record and changes nothing; one with another key can only return what is still sold. The stocks are
 * updated last, each in id order and in one statement, like every other release of seats.
 *
 * Answers the order's sold bookings as they are after the return (a repeat: as they are now).
 */
export function returnSoldSeats(context: BookingContext, command: ReturnSoldSeatsCommand): Promise<Booking[]> {
  const { orderId, idempotencyKey, seats } = command;
  const fingerprint = returnFingerprint(seats);
  return context.db.transaction(async (tx) => {
    const sold = (await lockOrderBookings(tx, orderId))
      .filter((booking) => booking.status === 'SOLD')
      .map(({ lapsed: _, ...booking }): Booking => booking);

    const earlier = await findSeatReturn(tx, orderId, idempotencyKey);
    if (earlier !== undefined) {
      if (earlier !== fingerprint) throw returnKeyReused(orderId, idempotencyKey);
      return sold;
    }

    const perBooking = allocateReturn(orderId, sold, seats);
    // The lock above serialises every return of this order, so the key cannot have been taken meanwhile; the
    // primary key still guards it, and a retry would then find the record.
    if (!(await insertSeatReturn(tx, orderId, idempotencyKey, fingerprint))) {
      throw unavailable('a concurrent return with this idempotency_key is in progress; retry');
    }
    await addReturnedSeats(tx, perBooking);
    await returnSeats(tx, returnedPerStock(sold, perBooking));
    return withReturned(sold, perBooking);
  });
}
