import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { and, asc, inArray, isNotNull, isNull, lt, sql } from 'drizzle-orm';
import { getTableConfig } from 'drizzle-orm/pg-core';
import type { Producer, TopicMessages } from 'kafkajs';
import { createAlarm } from '../alarm.ts';
import type { Database, Executor } from '../db/client.ts';
import type { OutboxTable } from '../db/tables.ts';
import type { Logger } from '../logger.ts';
import { eventHeaders } from './headers.ts';
import type { OutboxMetrics } from './outbox-metrics.ts';

export interface OutboxEvent {
  topic: string;
  /** Partition key: events with the same key (an order id) keep their order. */
  key: string;
  eventType: string;
  payload: Uint8Array;
  /** Defaults to a new UUID; pass the id the payload itself carries. */
  eventId?: string;
}

/** Largest event payload: half of Kafka's default message.max.bytes (1 MB), room for headers and batch overhead. */
export const MAX_EVENT_BYTES = 512 * 1024;

/**
 * Writes events in the caller's transaction. Call it after the statement that changes (and so
 * locks) the aggregate: a later change of the same aggregate then waits for this transaction and
 * gets a higher outbox id, which keeps per-key order through the relay.
 */
export async function addToOutbox(tx: Executor, table: OutboxTable, events: readonly OutboxEvent[]): Promise<void> {
  if (events.length === 0) return;
  const oversized = events.find((event) => event.payload.byteLength > MAX_EVENT_BYTES);
  if (oversized) {
    // Refused here, the state change fails with it; let through, the broker would refuse the row for ever and
    // every event after it would wait behind it.
    throw new Error(
      `event ${oversized.eventType} of ${oversized.payload.byteLength} bytes exceeds the outbox limit of ${MAX_EVENT_BYTES}`,
    );
  }
  await tx.insert(table).values(
    events.map((event) => ({
      eventId: event.eventId ?? randomUUID(),
      eventType: event.eventType,
      topic: event.topic,
      key: event.key,
      payload: event.payload,
    })),
  );
}

export interface OutboxRelayOptions {
  db: Database<Record<string, unknown>>;
  table: OutboxTable;
  producer: Producer;
  logger: Logger;
  /** Rows published per round. */
  batchSize?: number;
  /** How often to look for rows when nobody called `wake()`: the sweep for rows other replicas or a crash left. */
  pollIntervalMs?: number;
  /** Told how many events each round published (outbox_published_events_total). */
  metrics?: Pick<OutboxMetrics, 'published'>;
  /** Published rows are kept this long for inspection, then deleted. */
  retentionMs?: number;
  /**
   * Runs before the first round and again after each failure until it succeeds: connect the producer,
   * create the topics. So a service starts and commits events while Kafka is still down.
   */
  prepare?: () => Promise<void>;
}

export interface OutboxRelay {
  start(): void;
  /** Publish soon: call after committing a transaction that added events. */
  wake(): void;
  /** Publishes one batch now; returns how many rows it published (tests and shutdown use it). */
  publishPending(): Promise<number>;
  stop(): Promise<void>;
}

const MAX_BACKOFF_MS = 10_000;
/**
 * Payload bytes per send, well under Kafka's default 1 MB per request and partition (message.max.bytes): a backlog
 * after an outage goes out in several sends instead of one the broker refuses for ever.
 */
const MAX_BATCH_BYTES = 256 * 1024;
const PURGE_EVERY_MS = 60_000;
const STOP_GRACE_MS = 5_000;

/**
 * Publishes outbox rows to Kafka in id order and marks them only after the broker acknowledged them
 * (acks=all), so a crash between the two publishes again rather than losing: consumers deduplicate
 * by event id. One relay publishes at a time per outbox (a transaction-scoped advisory lock), which
 * keeps the order across replicas; the others find the lock taken and wait for the next round.
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { db, table, producer, logger } = options;
  const batchSize = options.batchSize ?? 500;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const retentionMs = options.retentionMs ?? 24 * 60 * 60 * 1_000;
  const lockKey = `outbox:${qualifiedName(table)}`;

  let running = false;
  let loop: Promise<void> | undefined;
  const alarm = createAlarm();
  let lastPurge = 0;

  async function publishPending(): Promise<number> {
    return db.transaction(async (tx) => {
      const [lock] = await tx.execute<{ locked: boolean }>(
        sql`select pg_try_advisory_xact_lock(hashtext(${lockKey})) as locked`,
      );
      if (!lock?.locked) return 0;
      const rows = await tx
        .select({
          id: table.id,
          eventId: table.eventId,
          eventType: table.eventType,
          topic: table.topic,
          key: table.key,
          payload: table.payload,
        })
        .from(table)
        .where(isNull(table.publishedAt))
        .orderBy(asc(table.id))
        .limit(batchSize);
      const batch = withinBytes(rows, MAX_BATCH_BYTES);
      if (batch.length === 0) return 0;
      await producer.sendBatch({ acks: -1, topicMessages: groupByTopic(batch) });
      await tx
        .update(table)
        .set({ publishedAt: sql`now()` })
        .where(
          inArray(
            table.id,
            batch.map((row) => row.id),
          ),
        );
      return batch.length;
    });
  }

  async function purgePublished(): Promise<void> {
    if (Date.now() - lastPurge < PURGE_EVERY_MS) return;
    lastPurge = Date.now();
    const cutoff = new Date(Date.now() - retentionMs);
    await db.delete(table).where(and(isNotNull(table.publishedAt), lt(table.publishedAt, cutoff)));
  }

  async function run(): Promise<void> {
    let failures = 0;
    let prepared = options.prepare === undefined;
    while (running) {
      try {
        if (!prepared) {
          await options.prepare?.();
          prepared = true;
        }
        const published = await publishPending();
        if (published > 0) options.metrics?.published(published);
        failures = 0;
        if (published === batchSize) continue;
        await purgePublished();
      } catch (error) {
        failures += 1;
        if (isDisconnected(error)) prepared = options.prepare === undefined;
        const delay = Math.min(MAX_BACKOFF_MS, 200 * 2 ** Math.min(failures, 10));
        logger.warn({ err: error, failures, retryInMs: delay }, 'outbox relay: publishing failed; will retry');
        await alarm.pause(delay);
        continue;
      }
      await alarm.pause(pollIntervalMs);
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    wake: alarm.wake,
    publishPending,
    async stop() {
      running = false;
      alarm.wake();
      // A round stuck on an unreachable broker must not hold up shutdown; rows it did not mark stay
      // unpublished and go out after the restart.
      await Promise.race([loop, sleep(STOP_GRACE_MS)]);
    },
  };
}

/** kafkajs refuses to send on a producer that lost its connection; preparing again reconnects it. */
const isDisconnected = (error: unknown): boolean =>
  error instanceof Error && (error.name === 'KafkaJSConnectionError' || /disconnected/i.test(error.message));

interface PendingRow {
  eventId: string;
  eventType: string;
  topic: string;
  key: string;
  payload: Uint8Array;
}

function groupByTopic(rows: readonly PendingRow[]): TopicMessages[] {
  const byTopic = new Map<string, TopicMessages>();
  for (const row of rows) {
    let entry = byTopic.get(row.topic);
    if (!entry) {
      entry = { topic: row.topic, messages: [] };
      byTopic.set(row.topic, entry);
    }
    entry.messages.push({
      key: row.key,
      value: Buffer.from(row.payload.buffer, row.payload.byteOffset, row.payload.byteLength),
      headers: eventHeaders(row.eventId, row.eventType),
    });
  }
  return [...byTopic.values()];
}

function qualifiedName(table: OutboxTable): string {
  const { schema, name } = getTableConfig(table);
  return schema ? `${schema}.${name}` : name;
}

/** The longest prefix of the rows whose payloads fit in `maxBytes`; at least one row, however large. */
function withinBytes<Row extends { payload: Uint8Array }>(rows: readonly Row[], maxBytes: number): Row[] {
  let bytes = 0;
  let count = 0;
  for (const row of rows) {
    bytes += row.payload.byteLength;
    if (count > 0 && bytes > maxBytes) break;
    count += 1;
  }
  return rows.slice(0, count);
}
