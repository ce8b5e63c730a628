import { processedEventsTable } from '@ticket/platform/tables';
import { sql } from 'drizzle-orm';
import { bigserial, check, index, integer, pgSchema, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';

/** Everything the notification service stores lives in this schema; no other service reads it. */
export const notificationSchema = pgSchema('notification');

/** Order events already handled, so a redelivered event sends nothing twice. */
export const processedEvents = processedEventsTable(notificationSchema);

export const notificationKinds = [
  'CREATED',
  'PAID',
  'CANCELLED',
  'EXPIRED',
  'FAILED',
  'PAYMENT_FAILED',
  'REFUNDED',
  'LATE_PAYMENT_REFUNDED',
] as const;
export const notificationChannels = ['EMAIL', 'LOG'] as const;
export const deliveryStatuses = ['PENDING', 'SENT', 'FAILED', 'SKIPPED'] as const;

/**
 * One notification per order change, rendered when the event is consumed and delivered afterwards by the
 * delivery loop. The unique (order_id, kind, change_key) is the second guard against sending twice: the same change
 * announced again under a new event id finds its row taken (see changeKeyOf).
 */
export const notifications = notificationSchema.table(
  'notifications',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Insertion order: one order's notifications are delivered in this order (its events arrive in order). */
    seq: bigserial('seq', { mode: 'number' }).notNull().unique(),
    userId: text('user_id').notNull(),
    orderId: uuid('order_id').notNull(),
    sourceEventId: text('source_event_id').notNull(),
    kind: text('kind', { enum: notificationKinds }).notNull(),
    /** Tells changes of one order and kind apart: '' for a status change, the refund id, a declined attempt's event. */
    changeKey: text('change_key').notNull().default(''),
    channel: text('channel', { enum: notificationChannels }).notNull(),
    status: text('status', { enum: deliveryStatuses }).notNull(),
    /** The email address; empty when the order had none (SKIPPED). */
    recipient: text('recipient').notNull(),
    subject: text('subject').notNull(),
    bodyText: text('body_text').notNull(),
    bodyHtml: text('body_html').notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    /** A PENDING row is due from then on; a claimed row is pushed forward by the claim's lease. */
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (table) => [
    unique('notifications_order_change_key').on(table.orderId, table.kind, table.changeKey),
    check(
      'notifications_kind_known',
      sql`${table.kind} in ('CREATED', 'PAID', 'CANCELLED', 'EXPIRED', 'FAILED', 'PAYMENT_FAILED', 'REFUNDED', 'LATE_PAYMENT_REFUNDED')`,
    ),
    check('notifications_channel_known', sql`${table.channel} in ('EMAIL', 'LOG')`),
    check('notifications_status_known', sql`${table.status} in ('PENDING', 'SENT', 'FAILED', 'SKIPPED')`),
    check('notifications_attempts_not_negative', sql`${table.attempts} >= 0`),
    check('notifications_sent_at_iff_sent', sql`(${table.status} = 'SENT') = (${table.sentAt} is not null)`),
    // ListNotifications: a user's notifications newest first, keyset-paginated.
    index('notifications_user_newest_idx').on(table.userId, table.createdAt.desc(), table.id.desc()),
    // The delivery loop reads only PENDING rows: those due, and an order's earlier ones.
    index('notifications_due_idx').on(table.nextAttemptAt, table.seq).where(sql`${table.status} = 'PENDING'`),
    index('notifications_pending_by_order_idx').on(table.orderId, table.seq).where(sql`${table.status} = 'PENDING'`),
  ],
);
