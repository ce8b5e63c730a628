import { outboxTable, processedEventsTable } from '@ticket/platform/tables';
import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  index,
  integer,
  pgSchema,
  primaryKey,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';

/** Everything the checkout service stores lives in this schema; no other service reads it. */
export const checkoutSchema = pgSchema('checkout');

/**
 * One line per (user, ticket type). Name, event and price are what the event service said when the line was
 * last added or set; PlaceOrder prices the order again from the event service.
 */
export const cartItems = checkoutSchema.table(
  'cart_items',
  {
    userId: text('user_id').notNull(),
    ticketTypeId: uuid('ticket_type_id').notNull(),
    eventId: uuid('event_id').notNull(),
    ticketTypeName: text('ticket_type_name').notNull(),
    unitPriceMinor: bigint('unit_price_minor', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    quantity: integer('quantity').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.userId, table.ticketTypeId] }),
    check('cart_items_quantity_positive', sql`${table.quantity} > 0`),
    check('cart_items_price_not_negative', sql`${table.unitPriceMinor} >= 0`),
  ],
);

export const orderStatuses = ['CREATED', 'PAID', 'CANCELLED', 'EXPIRED', 'FAILED'] as const;

/**
 * An order. Its id is derived from (user, PlaceOrder idempotency key), so a retried or concurrent PlaceOrder
 * lands on the same row. Only CREATED changes, once, by one conditional UPDATE.
 */
export const orders = checkoutSchema.table(
  'orders',
  {
    id: uuid('id').primaryKey(),
    userId: text('user_id').notNull(),
    email: text('email').notNull(),
    status: text('status', { enum: orderStatuses }).notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    totalMinor: bigint('total_minor', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    /** The earliest expiry of the order's holds; for a FAILED order, its creation time. */
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    paidAt: timestamp('paid_at', { withTimezone: true }),
    paymentReference: text('payment_reference'),
    /** The MarkOrderAsPaid idempotency key that paid it: a repeat with it answers the PAID order again. */
    paymentIdempotencyKey: text('payment_idempotency_key'),
    /** Set when a payment arrived too late (the holds had ended): it is owed back. */
    refundPaymentReference: text('refund_payment_reference'),
    failureReason: text('failure_reason'),
    /** What a FAILED order answers a repeated PlaceOrder with ('resource_exhausted', 'failed_precondition'). */
    failureKind: text('failure_kind'),
    /** When the overdue check last took up this order: it takes the least recently checked first. */
    lastCheckedAt: timestamp('last_checked_at', { withTimezone: true }),
  },
  (table) => [
    check('orders_status_known', sql`${table.status} in ('CREATED', 'PAID', 'CANCELLED', 'EXPIRED', 'FAILED')`),
    check('orders_total_not_negative', sql`${table.totalMinor} >= 0`),
    check('orders_paid_has_payment', sql`${table.status} <> 'PAID' or ${table.paymentReference} is not null`),
    unique('orders_user_idempotency_key').on(table.userId, table.idempotencyKey),
    // ListOrders: a user's orders newest first, keyset-paginated.
    index('orders_user_newest_idx').on(table.userId, table.createdAt.desc(), table.id.desc()),
    // The expiry check: CREATED orders by expiry.
    index('orders_created_by_expiry_idx').on(table.expiresAt).where(sql`${table.status} = 'CREATED'`),
  ],
);

/** One line of an order, with the price fixed at PlaceOrder and the booking (hold) that took its seats. */
export const orderItems = checkoutSchema.table(
  'order_items',
  {
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    ticketTypeId: uuid('ticket_type_id').notNull(),
    eventId: uuid('event_id').notNull(),
    ticketTypeName: text('ticket_type_name').notNull(),
    unitPriceMinor: bigint('unit_price_minor', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    quantity: integer('quantity').notNull(),
    /** Position in the order (the cart's line order), so items list in a stable order. */
    line: integer('line').notNull(),
    /** Booking's hold of these seats; null on a FAILED order's items that were never held. */
    bookingId: uuid('booking_id'),
  },
  (table) => [
    primaryKey({ columns: [table.orderId, table.ticketTypeId] }),
    check('order_items_quantity_positive', sql`${table.quantity} > 0`),
    check('order_items_price_not_negative', sql`${table.unitPriceMinor} >= 0`),
  ],
);

/** One ticket per paid seat. The code is random (120 bits, base32) and unique across all tickets. */
export const tickets = checkoutSchema.table(
  'tickets',
  {
    code: text('code').primaryKey(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    eventId: uuid('event_id').notNull(),
    ticketTypeId: uuid('ticket_type_id').notNull(),
    /** Position of the seat in the order, so tickets list in a stable order. */
    seq: integer('seq').notNull(),
    issuedAt: timestamp('issued_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [unique('tickets_order_seq_key').on(table.orderId, table.seq)],
);

/**
 * Payments announced by MarkOrderAsPaid, recorded before booking is asked to sell the holds: if the process dies
 * after booking sold them, the expiry check finds the sold bookings plus this record and completes the order as
 * PAID instead of expiring it.
 */
export const paymentAttempts = checkoutSchema.table(
  'payment_attempts',
  {
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    idempotencyKey: text('idempotency_key').notNull(),
    paymentReference: text('payment_reference').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.orderId, table.idempotencyKey] })],
);

/** Order events, written with the order change that they announce. */
export const outbox = outboxTable(checkoutSchema);

/** Booking events already applied (hold expiries), so a redelivery changes nothing. */
export const processedEvents = processedEventsTable(checkoutSchema);
