import { setTimeout as sleep } from 'node:timers/promises';
import type { Batch, Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Database, Executor } from '../db/client.ts';
import type { ProcessedEventsTable } from '../db/tables.ts';
import type { Logger } from '../logger.ts';
import { isTransientError } from '../transient.ts';
import { createProducer } from './client.ts';
import { EventHeader, headerText } from './headers.ts';

/** A handler throws this when a message can never be handled (it cannot be decoded, say): it is dead-lettered at once. */
export class PoisonMessageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PoisonMessageError';
  }
}

export interface ConsumedEvent {
  eventId: string;
  eventType: string;
  topic: string;
  partition: number;
  offset: string;
  key: string | undefined;
  value: Buffer;
  headers: IHeaders;
}

export interface IdempotentConsumerOptions {
  kafka: Kafka;
  db: Database<Record<string, unknown>>;
  table: ProcessedEventsTable;
  groupId: string;
  topics: readonly string[];
  deadLetterTopic: string;
  logger: Logger;
  /** Applies the event inside `tx`; the event id is recorded in the same transaction. */
  handle: (event: ConsumedEvent, tx: Executor) => Promise<void>;
  /**
   * Applies several new events of one partition, in order, inside `tx` (see maxBatchSize): a handler that can write
   * them with one statement saves a round trip per event. Without it, `handle` is called for each.
   */
  handleBatch?: (events: readonly ConsumedEvent[], tx: Executor) => Promise<void>;
  /** Attempts for a handler error before the message is dead-lettered (dependency outages are retried without limit). */
  maxAttempts?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * How long the broker waits for a member that stopped heartbeating (killed, cut off) before it gives its
   * partitions to the others, or to its own next instance. 10 s by default, not kafkajs's 30 s: a restarted
   * consumer's first join waits out its dead predecessor's session, and with 30 s that left a restarted notification
   * silent for 21-31 s. A clean stop leaves the group at once (kafkajs's disconnect sends LeaveGroup).
   */
  sessionTimeoutMs?: number;
  /** How often a member heartbeats: about a third of the session timeout, so one lost heartbeat is not fatal. */
  heartbeatIntervalMs?: number;
  /** Where a new consumer group starts; earliest by default so events published before it joined are not missed. */
  fromBeginning?: boolean;
  /**
   * Called after the transaction that applied an event committed (not for duplicates or dead letters): the place to
   * wake work that reads what the handler wrote, which it could not see before the commit.
   */
  onApplied?: (event: ConsumedEvent) => void;
  /**
   * Up to this many messages of one partition are applied in one transaction (one multi-row claim of their event ids,
   * the handler called for each new one in partition order), followed by one offset commit. 1 (the default) handles
   * one message at a time. A batch whose transaction fails is rolled back and its messages are handled again one at a
   * time, so retries and dead letters work per message as they do with 1. A handler used with batches must not assume
   * its transaction holds a single event.
   */
  maxBatchSize?: number;
  /**
   * Partitions handled at once (kafkajs's partitionsConsumedConcurrently); 1 by default. Each partition's messages are
   * still handled in order, one batch after another: only keys in different partitions overtake each other.
   */
  partitionsConsumedConcurrently?: number;
}

export interface IdempotentConsumer {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** True while the consumer is connected to the group (health checks use it). */
  isRunning(): boolean;
}

export const DeadLetterHeader = {
  reason: 'dlq-reason',
  originalTopic: 'dlq-original-topic',
  originalPartition: 'dlq-original-partition',
  originalOffset: 'dlq-original-offset',
  consumerGroup: 'dlq-consumer-group',
  failedAt: 'dlq-failed-at',
} as const;

type Outcome = 'applied' | 'duplicate' | 'dead-lettered';

/** The broker's default group.min.session.timeout.ms is 6 s: 10 s stays above it with room for a slow heartbeat. */
export const DEFAULT_SESSION_TIMEOUT_MS = 10_000;
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 3_000;

/** The kafkajs clients of one start, and the signal its stop raises. */
interface Session {
  consumer: Consumer;
  deadLetterProducer: Producer;
  stopping: AbortController;
}

/**
 * Consumes topics with at-least-once delivery and exactly-once effect: each message's event id is
 * claimed in the consumer's schema in the same transaction as the handler's writes, so a redelivered
 * event changes nothing; the offset is committed only after that transaction. Handler failures are
 * retried with exponential backoff; a message that keeps failing, or cannot be read at all, goes to
 * the dead-letter topic so the partition moves on.
 */
export function createIdempotentConsumer(options: IdempotentConsumerOptions): IdempotentConsumer {
  const { kafka, db, table, groupId, deadLetterTopic, logger, handle } = options;
  const maxAttempts = options.maxAttempts ?? 5;
  const initialBackoffMs = options.initialBackoffMs ?? 200;
  const maxBackoffMs = options.maxBackoffMs ?? 5_000;
  const sessionTimeout = options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
  const heartbeatInterval = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  const maxBatchSize = options.maxBatchSize ?? 1;
  const partitionsConsumedConcurrently = options.partitionsConsumedConcurrently ?? 1;
  // kafkajs would only refuse this when a start creates the consumer, in the background, again and again.
  if (heartbeatInterval >= sessionTimeout) {
    throw new Error(`heartbeatIntervalMs (${heartbeatInterval}) must be below sessionTimeoutMs (${sessionTimeout})`);
  }

  // Each start gets fresh kafkajs clients and its own stop signal: a consumer stopped after a failed start (see
  // startConsumerInBackground) and started again must neither reuse connections its disconnect closed nor act as if
  // it were still stopping.
  let session: Session | undefined;
  let running = false;

  function createSession(): Session {
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, sessionTimeout, heartbeatInterval });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      running = true;
    });
    consumer.on(consumer.events.CRASH, () => {
      running = false;
    });
    consumer.on(consumer.events.STOP, () => {
      running = false;
    });
    return { consumer, deadLetterProducer: createProducer(kafka), stopping: new AbortController() };
  }

  async function apply(event: ConsumedEvent): Promise<boolean> {
    return db.transaction(async (tx) => {
      const claimed = await tx
        .insert(table)
        .values({ consumerGroup: groupId, eventId: event.eventId })
        .onConflictDoNothing()
        .returning({ eventId: table.eventId });
      if (claimed.length === 0) return false;
      await handle(event, tx);
      return true;
    });
  }

  /**
   * Claims the event ids of `events` in one statement and handles each newly claimed one, in order, in the same
   * transaction. Returns the applied events. An id seen twice in the batch (a producer retry) is handled once.
   */
  async function applyAll(events: readonly ConsumedEvent[]): Promise<ConsumedEvent[]> {
    return db.transaction(async (tx) => {
      const claimed = await tx
        .insert(table)
        .values(events.map((event) => ({ consumerGroup: groupId, eventId: event.eventId })))
        .onConflictDoNothing()
        .returning({ eventId: table.eventId });
      const fresh = new Set(claimed.map((row) => row.eventId));
      const applied = events.filter((event) => fresh.delete(event.eventId));
      if (options.handleBatch) await options.handleBatch(applied, tx);
      else for (const event of applied) await handle(event, tx);
      return applied;
    });
  }

  function notifyApplied(event: ConsumedEvent): void {
    try {
      options.onApplied?.(event);
    } catch (error) {
      // The event is applied and committed whatever the callback does: never retry it for this.
      logger.error({ err: error, eventId: event.eventId }, 'onApplied callback failed');
    }
  }

  async function process(session: Session, event: ConsumedEvent, heartbeat: () => Promise<void>): Promise<Outcome> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        if (!(await apply(event))) return 'duplicate';
        notifyApplied(event);
        return 'applied';
      } catch (error) {
        if (error instanceof PoisonMessageError) return deadLetter(session, event, error.message);
        if (session.stopping.signal.aborted) throw error; // not committed: redelivered after the restart
        const transient = isTransientError(error);
        if (!transient && attempt >= maxAttempts) {
          return deadLetter(session, event, `failed after ${attempt} attempts: ${errorMessage(error)}`);
        }
        const delay = Math.min(maxBackoffMs, initialBackoffMs * 2 ** (attempt - 1));
        logger.warn(
          { err: error, eventId: event.eventId, attempt, transient, retryInMs: delay },
          'event handling failed; retrying',
        );
        await sleep(delay, undefined, { signal: session.stopping.signal }).catch(() => {});
        await heartbeat();
      }
    }
  }

  async function deadLetter(
    session: Session,
    event: Pick<ConsumedEvent, 'topic' | 'partition' | 'offset' | 'key' | 'headers'> & { value: Buffer | null },
    reason: string,
  ): Promise<'dead-lettered'> {
    logger.error(
      { topic: event.topic, partition: event.partition, offset: event.offset, reason },
      'message dead-lettered',
    );
    await session.deadLetterProducer.send({
      topic: deadLetterTopic,
      acks: -1,
      messages: [
        {
          key: event.key ?? null,
          value: event.value,
          headers: {
            ...event.headers,
            [DeadLetterHeader.reason]: reason,
            [DeadLetterHeader.originalTopic]: event.topic,
            [DeadLetterHeader.originalPartition]: String(event.partition),
            [DeadLetterHeader.originalOffset]: event.offset,
            [DeadLetterHeader.consumerGroup]: groupId,
            [DeadLetterHeader.failedAt]: new Date().toISOString(),
          },
        },
      ],
    });
    return 'dead-lettered';
  }

  async function onMessage(
    session: Session,
    topic: string,
    partition: number,
    message: KafkaMessage,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    const event = toEvent(topic, partition, message);
    const outcome = event
      ? await process(session, event, heartbeat)
      : await deadLetter(session, unreadable(topic, partition, message), unreadableReason(message));
    await session.consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
    logger.debug({ topic, partition, offset: message.offset, eventId: event?.eventId, outcome }, 'message handled');
  }

  /**
   * Handles a fetched batch of one partition in slices of maxBatchSize: each slice in one transaction, then its offset
   * committed. A slice that cannot be applied whole (a poison message, a handler error, Postgres down) is handled again
   * message by message, which retries, dead-letters and commits each on its own.
   */
  async function onBatch(session: Session, payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale } = payload;
    for (let start = 0; start < batch.messages.length; start += maxBatchSize) {
      // Stopping, or the partition was taken away (rebalance): the rest is redelivered to whoever gets it.
      if (!isRunning() || isStale()) return;
      const slice = batch.messages.slice(start, start + maxBatchSize);
      const lastOffset = slice.at(-1)?.offset;
      if (lastOffset === undefined) return;
      if (!(await applySlice(session, batch, slice, lastOffset))) {
        for (const message of slice) {
          if (!isRunning() || isStale()) return;
          await onMessage(session, batch.topic, batch.partition, message, heartbeat);
          payload.resolveOffset(message.offset);
        }
      }
      payload.resolveOffset(lastOffset);
      await heartbeat();
    }
  }

  /** Applies a slice in one transaction and commits its offset; false when it must be handled message by message. */
  async function applySlice(
    session: Session,
    batch: Batch,
    slice: readonly KafkaMessage[],
    lastOffset: string,
  ): Promise<boolean> {
    const events = slice
      .map((message) => toEvent(batch.topic, batch.partition, message))
      .filter((event) => event !== undefined);
    if (events.length < slice.length) return false; // the unreadable message is dead-lettered there
    let applied: ConsumedEvent[];
    try {
      applied = await applyAll(events);
    } catch (error) {
      if (session.stopping.signal.aborted) throw error; // not committed: redelivered after the restart
      logger.warn(
        { err: error, topic: batch.topic, partition: batch.partition, messages: slice.length },
        'batch could not be applied; handling its messages one at a time',
      );
      return false;
    }
    for (const event of applied) notifyApplied(event);
    await session.consumer.commitOffsets([
      { topic: batch.topic, partition: batch.partition, offset: (BigInt(lastOffset) + 1n).toString() },
    ]);
    logger.debug(
      { topic: batch.topic, partition: batch.partition, messages: slice.length, applied: applied.length },
      'batch handled',
    );
    return true;
  }

  return {
    async start() {
      const started = createSession();
      session = started;
      await started.deadLetterProducer.connect();
      await started.consumer.connect();
      await started.consumer.subscribe({ topics: [...options.topics], fromBeginning: options.fromBeginning ?? true });
      await started.consumer.run(
        maxBatchSize > 1
          ? {
              autoCommit: false,
              partitionsConsumedConcurrently,
              // A batch cut short (stop, rebalance) must not count as consumed up to its end.
              eachBatchAutoResolve: false,
              eachBatch: (payload) => onBatch(started, payload),
            }
          : {
              autoCommit: false,
              partitionsConsumedConcurrently,
              eachMessage: ({ topic, partition, message, heartbeat }) =>
                onMessage(started, topic, partition, message, heartbeat),
            },
      );
    },
    async stop() {
      if (!session) return;
      session.stopping.abort();
      await session.consumer.disconnect();
      await session.deadLetterProducer.disconnect();
    },
    isRunning: () => running,
  };
}

/** The event a message carries; undefined when it has no event id header or no value (it is dead-lettered). */
function toEvent(topic: string, partition: number, message: KafkaMessage): ConsumedEvent | undefined {
  const headers = message.headers ?? {};
  const eventId = headerText(headers, EventHeader.id);
  if (!eventId || !message.value) return undefined;
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key?.toString(),
    headers,
    eventId,
    eventType: headerText(headers, EventHeader.type) ?? '',
    value: message.value,
  };
}

/** An unreadable message as it is dead-lettered. */
function unreadable(topic: string, partition: number, message: KafkaMessage) {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key?.toString(),
    headers: message.headers ?? {},
    value: message.value,
  };
}

function unreadableReason(message: KafkaMessage): string {
  return `missing ${headerText(message.headers ?? {}, EventHeader.id) ? 'value' : `${EventHeader.id} header`}`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
