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
  uniqueIndex,
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

export const orderStatuses = [
  'CREATED',
  'PAID',
  'CANCELLED',
  'EXPIRED',
  'FAILED',
  'REFUNDED',
  'PARTIALLY_REFUNDED',
] as const;

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
    check(
      'orders_status_known',
      sql`${table.status} in ('CREATED', 'PAID', 'CANCELLED', 'EXPIRED', 'FAILED', 'REFUNDED', 'PARTIALLY_REFUNDED')`,
    ),
    check('orders_total_not_negative', sql`${table.totalMinor} >= 0`),
    check(
      'orders_paid_has_payment',
      sql`${table.status} not in ('PAID', 'REFUNDED', 'PARTIALLY_REFUNDED') or ${table.paymentReference} is not null`,
    ),
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
    /** The refund that takes this ticket back, from the moment it is asked: no ticket is refunded twice. */
    refundId: uuid('refund_id'),
    /** When that refund's money was returned: the ticket no longer admits anyone. */
    voidedAt: timestamp('voided_at', { withTimezone: true }),
  },
  (table) => [
    unique('tickets_order_seq_key').on(table.orderId, table.seq),
    check('tickets_voided_by_refund', sql`${table.voidedAt} is null or ${table.refundId} is not null`),
  ],
);

export const paymentStatuses = ['CREATED', 'SUCCEEDED', 'FAILED'] as const;

/**
 * Payments created at the payment provider for orders (PlaceOrder creates one per order, keyed by the order id)
 * and what the provider's webhooks said of them.
 */
export const payments = checkoutSchema.table(
  'payments',
  {
    provider: text('provider').notNull(),
    /** The provider's id (a Stripe PaymentIntent id). */
    id: text('id').notNull(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    amountMinor: bigint('amount_minor', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    status: text('status', { enum: paymentStatuses }).notNull().default('CREATED'),
    clientSecret: text('client_secret').notNull().default(''),
    payUrl: text('pay_url').notNull().default(''),
    failureReason: text('failure_reason'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.provider, table.id] }),
    check('payments_status_known', sql`${table.status} in ('CREATED', 'SUCCEEDED', 'FAILED')`),
    index('payments_order_idx').on(table.orderId),
  ],
);

export const refundReasons = ['REQUESTED', 'LATE_PAYMENT', 'DUPLICATE_PAYMENT'] as const;
export const refundStatuses = ['PENDING', 'SUCCEEDED'] as const;

/**
 * Money to return through the provider, one row per refund of one payment. A refund is PENDING from the moment it
 * is decided until the provider confirms it (retried until then), SUCCEEDED after; `completed_at` is set once what
 * follows the money is done too (seats back on sale, tickets void, the order's status and event).
 */
export const refunds = checkoutSchema.table(
  'refunds',
  {
    id: uuid('id').primaryKey(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    provider: text('provider').notNull(),
    paymentId: text('payment_id').notNull(),
    amountMinor: bigint('amount_minor', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    reason: text('reason', { enum: refundReasons }).notNull(),
    status: text('status', { enum: refundStatuses }).notNull().default('PENDING'),
    /** RefundOrder's key; null for the automatic refunds of late or duplicate payments. */
    idempotencyKey: text('idempotency_key'),
    ticketCodes: text('ticket_codes').array().notNull().default(sql`'{}'::text[]`),
    providerRefundId: text('provider_refund_id'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    refundedAt: timestamp('refunded_at', { withTimezone: true }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (table) => [
    check('refunds_amount_positive', sql`${table.amountMinor} > 0`),
    check('refunds_reason_known', sql`${table.reason} in ('REQUESTED', 'LATE_PAYMENT', 'DUPLICATE_PAYMENT')`),
    check('refunds_status_known', sql`${table.status} in ('PENDING', 'SUCCEEDED')`),
    check('refunds_refunded_at', sql`(${table.status} = 'SUCCEEDED') = (${table.refundedAt} is not null)`),
    // A payment that bought nothing is refunded once, however many webhooks announce it.
    uniqueIndex('refunds_automatic_once')
      .on(table.provider, table.paymentId)
      .where(sql`${table.reason} <> 'REQUESTED'`),
    unique('refunds_order_idempotency_key').on(table.orderId, table.idempotencyKey),
    // The retry job: refunds not finished yet, by when to try next.
    index('refunds_unfinished_idx').on(table.nextAttemptAt).where(sql`${table.completedAt} is null`),
  ],
);

/** Every webhook the provider sent, once each by its event id, with what checkout made of it. */
export const webhookEvents = checkoutSchema.table(
  'webhook_events',
  {
    provider: text('provider').notNull(),
    eventId: text('event_id').notNull(),
    kind: text('kind').notNull(),
    paymentId: text('payment_id'),
    /** What checkout did: paid, refund_scheduled, payment_failed, unknown_order, amount_mismatch, ignored, … */
    outcome: text('outcome').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.provider, table.eventId] })],
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
