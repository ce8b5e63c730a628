import { sql } from 'drizzle-orm';
import { bigserial, index, type PgSchema, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { bytea } from './columns.ts';

// Tables the platform's Kafka pieces need, declared in each service's own schema so that
// drizzle-kit generates them into that service's migrations. This file imports drizzle only:
// drizzle-kit loads it through the service's schema.

/**
 * The transactional outbox: a service writes the events that announce a state change into this
 * table in the same transaction as the change, and the relay publishes them to Kafka afterwards.
 * So an event exists if and only if its change committed, whatever Kafka was doing at the time.
 */
export function outboxTable(schema: PgSchema) {
  return schema.table(
    'outbox',
    {
      id: bigserial('id', { mode: 'bigint' }).primaryKey(),
      eventId: uuid('event_id').notNull().unique(),
      eventType: text('event_type').notNull(),
      topic: text('topic').notNull(),
      key: text('key').notNull(),
      payload: bytea('payload').notNull(),
      createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
      publishedAt: timestamp('published_at', { withTimezone: true }),
    },
    (table) => [index('outbox_unpublished_idx').on(table.id).where(sql`${table.publishedAt} is null`)],
  );
}

export type OutboxTable = ReturnType<typeof outboxTable>;

/** Ids of the events a consumer group has applied, written in the same transaction as their effect. */
export function processedEventsTable(schema: PgSchema) {
  return schema.table(
    'processed_events',
    {
      consumerGroup: text('consumer_group').notNull(),
      eventId: text('event_id').notNull(),
      processedAt: timestamp('processed_at', { withTimezone: true }).notNull().defaultNow(),
    },
    (table) => [primaryKey({ columns: [table.consumerGroup, table.eventId] })],
  );
}

export type ProcessedEventsTable = ReturnType<typeof processedEventsTable>;
