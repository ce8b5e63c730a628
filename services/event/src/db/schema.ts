import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  foreignKey,
  index,
  integer,
  pgSchema,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/** Everything the event service stores lives in this schema; no other service reads it. */
export const eventSchema = pgSchema('event');

/** A venue. Listed by (name, id), so that pair is indexed for keyset pagination. */
export const locations = eventSchema.table(
  'locations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    address: text('address').notNull().default(''),
    city: text('city').notNull().default(''),
    /** ISO 3166-1 alpha-2, or '' when not given. */
    countryCode: text('country_code').notNull().default(''),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('locations_name_id_idx').on(table.name, table.id),
    check('locations_name_not_empty', sql`length(${table.name}) > 0`),
    check('locations_country_code_format', sql`${table.countryCode} ~ '^([A-Z]{2})?$'`),
  ],
);

/**
 * PENDING: created here, its stocks are being created in booking; invisible to every read.
 * ACTIVE: every stock exists; the only status reads see.
 * ABANDONED: the cleanup job is deleting its stocks, then the event.
 */
export const eventStatuses = ['PENDING', 'ACTIVE', 'ABANDONED'] as const;

export const events = eventSchema.table(
  'events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    startsAt: timestamp('starts_at', { withTimezone: true }).notNull(),
    endsAt: timestamp('ends_at', { withTimezone: true }).notNull(),
    locationId: uuid('location_id'),
    status: text('status', { enum: eventStatuses }).notNull(),
    /**
     * The organizer who created the event and owns it (their token's `sub`). Null only for events created before
     * owners were recorded: nobody's, so only an admin may manage them.
     */
    organizerId: text('organizer_id'),
    /** Until when buyers may refund their own tickets (checkout reads it from the event); null: they may not. */
    refundableUntil: timestamp('refundable_until', { withTimezone: true }),
    /** A retried CreateEvent finds its first attempt by this key, among its organizer's events. */
    idempotencyKey: text('idempotency_key').notNull(),
    /** Hash of the CreateEvent arguments: the same key with other arguments is refused. */
    requestFingerprint: text('request_fingerprint').notNull(),
    /**
     * The call or cleanup run that owns an unfinished (PENDING or ABANDONED) event's saga; null when nobody does.
     * Ownership lasts PENDING_EVENT_TIMEOUT_SECONDS after `updated_at`, which the owner renews before each batch of
     * booking calls.
     */
    claimId: uuid('claim_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    // Keys are the organizer's own: two organizers who happen to pick the same key get two events.
    unique('events_organizer_idempotency_key').on(table.organizerId, table.idempotencyKey),
    check('events_organizer_id_not_empty', sql`${table.organizerId} <> ''`),
    // An unknown location fails the insert itself: no check-then-insert race with anything.
    foreignKey({ name: 'events_location_fk', columns: [table.locationId], foreignColumns: [locations.id] }),
    check('events_ends_after_start', sql`${table.endsAt} > ${table.startsAt}`),
    // Refunding a ticket for an event that is over would be a refund of something consumed.
    check(
      'events_refundable_until_by_end',
      sql`${table.refundableUntil} is null or ${table.refundableUntil} <= ${table.endsAt}`,
    ),
    check('events_status_known', sql`${table.status} in ('PENDING', 'ACTIVE', 'ABANDONED')`),
    // ListEvents reads visible events by (starts_at, id), with or without a location.
    index('events_active_by_start_idx').on(table.startsAt, table.id).where(sql`${table.status} = 'ACTIVE'`),
    index('events_active_by_location_idx')
      .on(table.locationId, table.startsAt, table.id)
      .where(sql`${table.status} = 'ACTIVE'`),
    // The cleanup job looks for unfinished events by age.
    index('events_unfinished_by_update_idx').on(table.updatedAt).where(sql`${table.status} <> 'ACTIVE'`),
  ],
);

/** A kind of ticket of one event. Each has a stock in booking, keyed by (event_id, id). */
export const ticketTypes = eventSchema.table(
  'ticket_types',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    eventId: uuid('event_id')
      .notNull()
      .references(() => events.id, { onDelete: 'cascade' }),
    /** Order in the CreateEvent request, which is the order they are returned in. */
    position: integer('position').notNull(),
    name: text('name').notNull(),
    priceMinor: bigint('price_minor', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    seats: integer('seats').notNull(),
  },
  (table) => [
    unique('ticket_types_event_position_key').on(table.eventId, table.position),
    // "VIP" and "vip" in one event would confuse buyers; the request check is case-insensitive too.
    uniqueIndex('ticket_types_event_name_key').on(table.eventId, sql`lower(${table.name})`),
    check('ticket_types_price_not_negative', sql`${table.priceMinor} >= 0`),
    check('ticket_types_seats_positive', sql`${table.seats} > 0`),
    check('ticket_types_currency_format', sql`${table.currency} ~ '^[A-Z]{3}$'`),
  ],
);
