import { outboxTable } from '@ticket/platform/tables';
import { sql } from 'drizzle-orm';
import { check, index, integer, pgSchema, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';

/** Everything the booking service stores lives in this schema; no other service reads it. */
export const bookingSchema = pgSchema('booking');

/**
 * Seats of one ticket type of one event. `seats_booked` counts live holds plus sold seats; the CHECK
 * constraints make overselling impossible even for a buggy caller, since every hold changes this row.
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

/** A hold of seats of one stock for one order: HELD until SOLD (paid), RELEASED (cancelled) or EXPIRED. */
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
  },
  (table) => [
    // One hold per order and stock: a retried CreateBooking finds the first one instead of holding twice.
    unique('bookings_order_stock_key').on(table.orderId, table.stockId),
    unique('bookings_idempotency_key').on(table.idempotencyKey),
    check('bookings_seats_positive', sql`${table.seats} > 0`),
    check('bookings_status_known', sql`${table.status} in ('HELD', 'SOLD', 'RELEASED', 'EXPIRED')`),
    // The expiry sweep and the inline reclaim read live holds by expiry, nothing else.
    index('bookings_live_by_expiry_idx').on(table.expiresAt).where(sql`${table.status} = 'HELD'`),
    index('bookings_live_by_stock_idx').on(table.stockId, table.expiresAt).where(sql`${table.status} = 'HELD'`),
  ],
);

/** Hold-expired events, written with the expiry that they announce. */
export const outbox = outboxTable(bookingSchema);
