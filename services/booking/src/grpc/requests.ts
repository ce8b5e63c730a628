import { field } from '@ticket/platform';
import { z } from 'zod';

// What a valid request is, per RPC. parseRequest names every bad field by its proto path.

/** Most seats one hold may take; a larger ask is a client bug, not a sale. */
export const MAX_SEATS_PER_HOLD = 10_000;
const MAX_BOOKING_IDS = 1_000;
/** Ticket types one seat return may name; a refund names those of one order. */
const MAX_SEAT_RETURNS = 1_000;

const stockKey = { eventId: field.uuid(), ticketTypeId: field.uuid() };

export const createStockRequest = z.object({ ...stockKey, seatsTotal: field.positiveInt32() });

export const getStocksRequest = z.object({ eventId: field.uuid(), ticketTypeId: field.uuid().optional() });

export const stockKeyRequest = z.object(stockKey);

export const createBookingRequest = z.object({
  idempotencyKey: field.idempotencyKey(),
  orderId: field.uuid(),
  userId: field.nonEmptyString(128),
  ...stockKey,
  seats: field.positiveInt32().max(MAX_SEATS_PER_HOLD, { error: `must be at most ${MAX_SEATS_PER_HOLD}` }),
});

export const getBookingsRequest = z.object({ orderId: field.uuid(), includeExpired: z.boolean() });

export const expireBookingsRequest = z.object({
  orderId: field.uuid(),
  bookingIds: z
    .array(field.uuid())
    .min(1, { error: 'must name at least one booking' })
    .max(MAX_BOOKING_IDS, { error: `must name at most ${MAX_BOOKING_IDS} bookings` }),
});

export const orderRequest = z.object({ orderId: field.uuid() });

const seatReturn = z.object({
  ...stockKey,
  // No booking holds more than one hold's worth of seats, so no return can be larger.
  seats: field.positiveInt32().max(MAX_SEATS_PER_HOLD, { error: `must be at most ${MAX_SEATS_PER_HOLD}` }),
});

export const returnSoldSeatsRequest = z.object({
  orderId: field.uuid(),
  idempotencyKey: field.idempotencyKey(),
  seats: z
    .array(seatReturn)
    .min(1, { error: 'must name at least one ticket type' })
    .max(MAX_SEAT_RETURNS, { error: `must name at most ${MAX_SEAT_RETURNS} ticket types` })
    .superRefine((entries, context) => {
      // One entry per ticket type: two would make "how many seats of it" ambiguous to the fingerprint and to readers.
      const firstByStock = new Map<string, number>();
      entries.forEach((entry, index) => {
        const stock = `${entry.eventId}/${entry.ticketTypeId}`;
        const first = firstByStock.get(stock);
        if (first === undefined) firstByStock.set(stock, index);
        else context.addIssue({ code: 'custom', path: [index, 'ticketTypeId'], message: `repeats seats[${first}]` });
      });
    }),
});
