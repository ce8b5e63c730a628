import type { Executor } from '@ticket/platform';
import { endLapsedHolds, seatsPerStock } from '../db/booking-repository.ts';
import { returnSeats } from '../db/stock-repository.ts';
import type { Booking } from '../domain/booking.ts';
import { recordBookingsExpired } from '../events/bookings-expired.ts';
import type { BookingContext } from './context.ts';

/**
 * Inside the caller's transaction: expires the lapsed holds (of one stock, or of all) of the orders of the
 * `holdLimit` earliest ones, gives their seats back and records one event per order. The sweep, a hold that finds
 * its stock full and a stock deletion all release lapsed holds this one way.
 */
export async function releaseLapsedHoldsIn(
  tx: Executor,
  context: BookingContext,
  holdLimit: number,
  stockId?: string,
): Promise<Booking[]> {
  const expired = await endLapsedHolds(tx, holdLimit, stockId);
  if (expired.length === 0) return expired;
  await returnSeats(tx, seatsPerStock(expired));
  await recordBookingsExpired(tx, context.config.BOOKING_EVENTS_TOPIC, expired);
  return expired;
}

/** The expiry sweep: batch after batch, each its own short transaction, until no lapsed hold is left. */
export async function releaseLapsedHolds(context: BookingContext): Promise<number> {
  const batchSize = context.config.EXPIRY_BATCH_SIZE;
  let released = 0;
  for (;;) {
    const batch = await context.db.transaction((tx) => releaseLapsedHoldsIn(tx, context, batchSize));
    released += batch.length;
    if (batch.length > 0) context.eventsCommitted();
    // Fewer than a batch ended: fewer were lapsed (or the rest are locked by a payment or another sweeper).
    if (batch.length < batchSize) return released;
  }
}
