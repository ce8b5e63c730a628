import { createHash } from 'node:crypto';
import { DomainError, failedPrecondition, notFound } from '@ticket/platform';
import type { Booking, StockKey } from './booking.ts';

// Pure rules of returning sold seats (a refund puts them back on sale); no I/O here.

/** Seats of one ticket type of an order to put back on sale. */
export interface SeatReturn extends StockKey {
  seats: number;
}

/** A validated ReturnSoldSeats request: each ticket type named once. */
export interface ReturnSoldSeatsCommand {
  orderId: string;
  idempotencyKey: string;
  seats: SeatReturn[];
}

/**
 * What makes two ReturnSoldSeats calls with one key "the same call": the seats per ticket type, in a fixed
 * order (ids are lower case after validation), so listing the ticket types in another order is still a retry.
 */
export function returnFingerprint(seats: readonly SeatReturn[]): string {
  const canonical = JSON.stringify(
    seats
      .map((entry) => [`${entry.eventId}/${entry.ticketTypeId}`, entry.seats] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * Which sold bookings give back how many seats: per ticket type, from its SOLD bookings in the order given (the
 * lock order) until the ask is met, each no more than it has sold and not yet returned. All or nothing: the first
 * ticket type the order did not buy, or bought fewer unreturned seats of than asked, throws.
 */
export function allocateReturn(
  orderId: string,
  bookings: readonly Booking[],
  seats: readonly SeatReturn[],
): Map<string, number> {
  const perBooking = new Map<string, number>();
  for (const entry of seats) {
    const sold = bookings.filter((booking) => booking.status === 'SOLD' && sameStock(booking, entry));
    if (sold.length === 0) throw noSoldSeats(orderId, entry);
    const returnable = sold.reduce((sum, booking) => sum + unreturned(booking), 0);
    if (entry.seats > returnable) throw tooManySeatsReturned(orderId, entry, returnable);
    let left = entry.seats;
    for (const booking of sold) {
      const taken = Math.min(left, unreturned(booking));
      if (taken > 0) perBooking.set(booking.id, taken);
      left -= taken;
    }
  }
  return perBooking;
}

/** Seats `perBooking` returns, per stock: what each stock's seats_booked goes down by. */
export function returnedPerStock(
  bookings: readonly Booking[],
  perBooking: ReadonlyMap<string, number>,
): Map<string, number> {
  const perStock = new Map<string, number>();
  for (const booking of bookings) {
    const seats = perBooking.get(booking.id);
    if (seats) perStock.set(booking.stockId, (perStock.get(booking.stockId) ?? 0) + seats);
  }
  return perStock;
}

/** The bookings with `perBooking`'s seats added to what they had returned. */
export const withReturned = (bookings: readonly Booking[], perBooking: ReadonlyMap<string, number>): Booking[] =>
  bookings.map((booking) => ({ ...booking, seatsReturned: booking.seatsReturned + (perBooking.get(booking.id) ?? 0) }));

/** Seats of a booking still sold: what a refund may still return. */
export const unreturned = (booking: Booking): number =>
  booking.status === 'SOLD' ? booking.seats - booking.seatsReturned : 0;

const sameStock = (booking: Booking, key: StockKey): boolean =>
  booking.eventId === key.eventId && booking.ticketTypeId === key.ticketTypeId;

export const noSoldSeats = (orderId: string, key: StockKey) =>
  notFound(`sold booking of order ${orderId} for ticket type ${key.ticketTypeId} of event ${key.eventId}`);

export const tooManySeatsReturned = (orderId: string, entry: SeatReturn, returnable: number) =>
  failedPrecondition(
    `order ${orderId} has ${returnable} sold seats of ticket type ${entry.ticketTypeId} not yet returned; cannot return ${entry.seats}`,
  );

export const returnKeyReused = (orderId: string, idempotencyKey: string) =>
  new DomainError(
    'already_exists',
    `idempotency_key ${idempotencyKey} was already used to return other seats of order ${orderId}`,
  );
