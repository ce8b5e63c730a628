import { outboxTable } from '@ticket/platform/tables';
import { sql } from 'drizzle-orm';
import { check, index, integer, pgSchema, primaryKey, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';

/** Everything the booking service stores lives in this schema; no other service reads it. */
export const bookingSchema = pgSchema('booking');

/**
 * Seats of one ticket type of one event. `seats_booked` counts live holds plus sold seats, less the sold
 * seats returned by refunds; the CHECK constraints make overselling impossible even for a buggy caller,
 * since every hold and every return changes this row.
 */
export const stocks = bookingSchema.table(
  'stocks',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    eventId: uuid('event_id').notNull(),
    ticketTypeId: uuid('ticket_type_id').notNull(),
    seatsTotal: integer('seats_total').notNull(),
    seatsBooked: integer('seats_booked').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    unique('stocks_event_ticket_type_key').on(table.eventId, table.ticketTypeId),
    check('stocks_seats_total_positive', sql`${table.seatsTotal} > 0`),
    check('stocks_seats_booked_within_total', sql`${table.seatsBooked} between 0 and ${table.seatsTotal}`),
  ],
);

export const bookingStatuses = ['HELD', 'SOLD', 'RELEASED', 'EXPIRED'] as const;

/**
 * A hold of seats of one stock for one order: HELD until SOLD (paid), RELEASED (cancelled) or EXPIRED. A SOLD
 * booking may later give some or all of its seats back (a refund): `seats_returned` grows, the row stays SOLD.
 */
export const bookings = bookingSchema.table(
  'bookings',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    stockId: uuid('stock_id')
      .notNull()
      .references(() => stocks.id, { onDelete: 'cascade' }),
    orderId: uuid('order_id').notNull(),
    userId: text('user_id').notNull(),
    seats: integer('seats').notNull(),
    status: text('status', { enum: bookingStatuses }).notNull().default('HELD'),
    idempotencyKey: text('idempotency_key').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    /** When it stopped being a live hold: sold, released or expired. */
    endedAt: timestamp('ended_at', { withTimezone: true }),
    /** Of a SOLD booking: seats put back on sale by refunds (ReturnSoldSeats). */
    seatsReturned: integer('seats_returned').notNull().default(0),
  },
  (table) => [
    // One hold per order and stock: a retried CreateBooking finds the first one instead of holding twice.
    unique('bookings_order_stock_key').on(table.orderId, table.stockId),
    unique('bookings_idempotency_key').on(table.idempotencyKey),
    check('bookings_seats_positive', sql`${table.seats} > 0`),
    check('bookings_status_known', sql`${table.status} in ('HELD', 'SOLD', 'RELEASED', 'EXPIRED')`),
    // A booking never returns more seats than it sold, and only sold seats can be returned.
    check('bookings_seats_returned_within_seats', sql`${table.seatsReturned} between 0 and ${table.seats}`),
    check('bookings_returns_only_sold', sql`${table.status} = 'SOLD' or ${table.seatsReturned} = 0`),
    // The expiry sweep and the inline reclaim read live holds by expiry, nothing else.
    index('bookings_live_by_expiry_idx').on(table.expiresAt).where(sql`${table.status} = 'HELD'`),
    index('bookings_live_by_stock_idx').on(table.stockId, table.expiresAt).where(sql`${table.status} = 'HELD'`),
  ],
);

/**
 * The ReturnSoldSeats calls that took effect, one per (order, idempotency key): a retried refund finds its
 * return here and changes nothing, and the same key with other seats is told apart by the fingerprint. Written
 * in the transaction that returns the seats, so a return exists here if and only if its seats went back.
 */
export const seatReturns = bookingSchema.table(
  'seat_returns',
  {
    orderId: uuid('order_id').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    /** Hash of the seats the call returned (per ticket type, in a fixed order). */
    requestFingerprint: text('request_fingerprint').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ name: 'seat_returns_pkey', columns: [table.orderId, table.idempotencyKey] })],
);

/** Hold-expired events, written with the expiry that they announce. */
export const outbox = outboxTable(bookingSchema);
