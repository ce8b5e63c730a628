import type { Registry } from 'prom-client';
import type { Database } from '../db/client.ts';
import type { OutboxTable } from '../db/tables.ts';
import type { Logger } from '../logger.ts';
import { createProducer, ensureTopics, type Kafka, type Producer, type TopicSpec } from './client.ts';
import { createOutboxRelay, type OutboxRelay } from './outbox.ts';
import { createOutboxMetrics } from './outbox-metrics.ts';

export interface OutboxPublisherOptions {
  kafka: Kafka;
  db: Database<Record<string, unknown>>;
  table: OutboxTable;
  /** Created (when missing) before the first publish. */
  topics: readonly TopicSpec[];
  logger: Logger;
  /** Where the outbox's metrics go (createOutboxMetrics): the service's registry. */
  registry?: Registry;
}

/**
 * A service's way to Kafka for the events it commits: an idempotent producer and the outbox relay that feeds it.
 * The relay creates the topics and connects when it first can, so the service starts, and commits events, while
 * Kafka is down. Close the relay before the producer.
 */
export function createOutboxPublisher({ kafka, db, table, topics, logger, registry }: OutboxPublisherOptions): {
  producer: Producer;
  relay: OutboxRelay;
} {
  const producer = createProducer(kafka);
  const relay = createOutboxRelay({
    db,
    table,
    producer,
    logger,
    metrics: registry && createOutboxMetrics(registry, db, table),
    prepare: async () => {
      await ensureTopics(kafka, topics);
      await producer.connect();
    },
  });
  return { producer, relay };
}
