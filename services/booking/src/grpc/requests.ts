import { field } from '@ticket/platform';
import { z } from 'zod';

// What a valid request is, per RPC. parseRequest names every bad field by its proto path.

/** Most seats one hold may take; a larger ask is a client bug, not a sale. */
export const MAX_SEATS_PER_HOLD = 10_000;
const MAX_BOOKING_IDS = 1_000;

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
