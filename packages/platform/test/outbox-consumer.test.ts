import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { OrderStatus } from '@ticket/contracts/v1/checkout/checkout_service';
import { OrderEvent, OrderEventType, orderEventTypeToJSON } from '@ticket/contracts/v1/checkout/order_events';
import { eq, sql } from 'drizzle-orm';
import type { Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { closeDatabase, createDatabase, type Database, type Executor } from '../src/db/client.ts';
import { migrateSchema } from '../src/db/migrate.ts';
import { createKafka, createProducer, ensureTopics } from '../src/kafka/client.ts';
import {
  type ConsumedEvent,
  createIdempotentConsumer,
  DeadLetterHeader,
  type IdempotentConsumer,
  PoisonMessageError,
} from '../src/kafka/consumer.ts';
import { eventHeaders } from '../src/kafka/headers.ts';
import { addToOutbox, createOutboxRelay, MAX_EVENT_BYTES } from '../src/kafka/outbox.ts';
import { createLogger } from '../src/logger.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing/database.ts';
import { readMessages, testKafkaBrokers, uniqueTopic } from '../src/testing/kafka.ts';
import * as fixture from './fixtures/schema.ts';

const logger = createLogger({ name: 'platform-test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });

let database: TestDatabase;
let db: Database<Record<string, unknown>>;
let kafka: Kafka;
let producer: Producer;
const consumers: IdempotentConsumer[] = [];

beforeAll(async () => {
  database = await createTestDatabase('outbox');
  await migrateSchema({
    url: database.url,
    schema: 'platform_fixture',
    migrationsFolder: join(import.meta.dirname, 'fixtures/migrations'),
  });
  db = createDatabase({ url: database.url, applicationName: 'platform-test', poolSize: 5 });
  kafka = createKafka({ clientId: 'platform-test', brokers: testKafkaBrokers(), logger });
  producer = createProducer(kafka);
  await producer.connect();
});

afterAll(async () => {
  await Promise.all(consumers.map((consumer) => consumer.stop()));
  await producer?.disconnect();
  if (db) await closeDatabase(db);
  await database?.drop();
});

function orderEvent(orderId: string, eventType: OrderEventType, status: OrderStatus): OrderEvent {
  return OrderEvent.fromPartial({
    eventId: crypto.randomUUID(),
    eventType,
    occurredAt: new Date('2026-11-23T10:00:00.000Z'),
    order: {
      id: orderId,
      userId: 'user-1',
      email: 'buyer@example.com',
      status,
      total: { amountMinor: 12_50, currency: 'EUR' },
      tickets: status === OrderStatus.ORDER_STATUS_PAID ? [{ code: 'TKT-1', eventId: 'e1', ticketTypeId: 't1' }] : [],
    },
  });
}

/** Commits events through the outbox, as a service does next to its state change. */
async function commitEvents(topic: string, events: readonly OrderEvent[]): Promise<void> {
  await db.transaction((tx) =>
    addToOutbox(
      tx,
      fixture.outbox,
      events.map((event) => ({
        topic,
        key: event.order?.id ?? '',
        eventId: event.eventId,
        eventType: orderEventTypeToJSON(event.eventType),
        payload: OrderEvent.encode(event).finish(),
      })),
    ),
  );
}

/** The handler of the fixture "service": decode, then record the effect in the same transaction. */
async function applyOrderEvent(event: ConsumedEvent, tx: Executor): Promise<void> {
  let decoded: OrderEvent;
  try {
    decoded = OrderEvent.decode(event.value);
  } catch (error) {
    throw new PoisonMessageError(`not an OrderEvent: ${(error as Error).message}`);
  }
  if (decoded.eventId !== event.eventId) throw new PoisonMessageError('event-id header does not match the payload');
  await tx.insert(fixture.appliedEvents).values({
    eventId: decoded.eventId,
    orderId: decoded.order?.id ?? '',
    status: decoded.order?.status ?? 0,
  });
}

async function startConsumer(
  topic: string,
  deadLetterTopic: string,
  handle: (event: ConsumedEvent, tx: Executor) => Promise<void> = applyOrderEvent,
  { restarted = false, groupId = uniqueTopic('group') } = {},
): Promise<{ groupId: string }> {
  const consumer = createIdempotentConsumer({
    kafka,
    db,
    table: fixture.processedEvents,
    groupId,
    topics: [topic],
    deadLetterTopic,
    logger,
    handle,
    initialBackoffMs: 20,
  });
  consumers.push(consumer);
  if (restarted) {
    // What startConsumerInBackground does after a start that failed: stop, then start again.
    await consumer.start();
    await consumer.stop();
  }
  await consumer.start();
  return { groupId };
}

/** Sum of the group's committed offsets on a topic: how many messages it has finished with. */
async function committedCount(groupId: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (offsets?.partitions ?? []).reduce((sum, partition) => sum + Math.max(0, Number(partition.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

const appliedFor = (orderId: string) =>
  db
    .select()
    .from(fixture.appliedEvents)
    .where(eq(fixture.appliedEvents.orderId, orderId))
    .orderBy(fixture.appliedEvents.appliedAt);

describe('outbox relay and idempotent consumer (real Postgres, real Kafka)', () => {
  it('carries a protobuf event through the outbox and the broker to exactly one effect, even when delivered twice', async () => {
    const topic = uniqueTopic('orders');
    const dlq = uniqueTopic('orders.dlq');
    await ensureTopics(kafka, [{ topic }, { topic: dlq }]);
    const relay = createOutboxRelay({ db, table: fixture.outbox, producer, logger });
    const orderId = crypto.randomUUID();
    const paid = orderEvent(orderId, OrderEventType.ORDER_EVENT_TYPE_PAID, OrderStatus.ORDER_STATUS_PAID);
    await commitEvents(topic, [paid]);

    expect(await relay.publishPending()).toBe(1);
    // The relay crashed after the broker's ack but before marking the row: it publishes the row again.
    await db.execute(sql`update platform_fixture.outbox set published_at = null where event_id = ${paid.eventId}`);
    expect(await relay.publishPending()).toBe(1);
    expect(await relay.publishPending()).toBe(0);

    const onTopic = await readMessages(kafka, topic, 2);
    expect(onTopic.map((message) => [message.key, message.headers['event-id']])).toEqual([
      [orderId, paid.eventId],
      [orderId, paid.eventId],
    ]);
    expect(OrderEvent.decode(onTopic[0]?.value ?? Buffer.alloc(0))).toEqual(paid);

    const { groupId } = await startConsumer(topic, dlq);
    await vi.waitFor(async () => expect(await committedCount(groupId, topic)).toBe(2), {
      timeout: 30_000,
      interval: 100,
    });
    const applied = await appliedFor(orderId);
    expect(applied).toHaveLength(1);
    expect(applied[0]).toMatchObject({ eventId: paid.eventId, status: OrderStatus.ORDER_STATUS_PAID });
  });

  it('keeps the order of one key, from commits through the running relay to the consumer', async () => {
    const topic = uniqueTopic('orders');
    const dlq = uniqueTopic('orders.dlq');
    await ensureTopics(kafka, [{ topic }, { topic: dlq }]);
    const orderId = crypto.randomUUID();
    const lifecycle = [
      orderEvent(orderId, OrderEventType.ORDER_EVENT_TYPE_CREATED, OrderStatus.ORDER_STATUS_CREATED),
      orderEvent(orderId, OrderEventType.ORDER_EVENT_TYPE_PAID, OrderStatus.ORDER_STATUS_PAID),
      orderEvent(orderId, OrderEventType.ORDER_EVENT_TYPE_CANCELLED, OrderStatus.ORDER_STATUS_CANCELLED),
    ];
    const relay = createOutboxRelay({ db, table: fixture.outbox, producer, logger, pollIntervalMs: 50 });
    relay.start();
    try {
      for (const event of lifecycle) await commitEvents(topic, [event]);
      relay.wake();
      await startConsumer(topic, dlq);
      await vi.waitFor(async () => expect(await appliedFor(orderId)).toHaveLength(3), {
        timeout: 30_000,
        interval: 100,
      });
    } finally {
      await relay.stop();
    }
    expect((await appliedFor(orderId)).map((row) => row.eventId)).toEqual(lifecycle.map((event) => event.eventId));
  });

  it('dead-letters messages it cannot read, with the reason, and goes on with the next ones', async () => {
    const topic = uniqueTopic('orders');
    const dlq = uniqueTopic('orders.dlq');
    await ensureTopics(kafka, [{ topic, partitions: 1 }, { topic: dlq }]);
    const orderId = crypto.randomUUID();
    await producer.send({
      topic,
      messages: [
        { key: orderId, value: Buffer.from('no headers at all') },
        {
          key: orderId,
          value: Buffer.from([0xff, 0xff, 0xff, 0xff]),
          headers: eventHeaders(crypto.randomUUID(), 'ORDER_EVENT_TYPE_PAID'),
        },
      ],
    });
    const good = orderEvent(orderId, OrderEventType.ORDER_EVENT_TYPE_CREATED, OrderStatus.ORDER_STATUS_CREATED);
    await commitEvents(topic, [good]);
    await createOutboxRelay({ db, table: fixture.outbox, producer, logger }).publishPending();

    const { groupId } = await startConsumer(topic, dlq);
    await vi.waitFor(async () => expect(await appliedFor(orderId)).toHaveLength(1), { timeout: 30_000, interval: 100 });
    const deadLetters = await readMessages(kafka, dlq, 2);
    expect(deadLetters.map((message) => message.headers[DeadLetterHeader.reason])).toEqual([
      'missing event-id header',
      expect.stringContaining('not an OrderEvent'),
    ]);
    expect(deadLetters.map((message) => message.headers[DeadLetterHeader.originalOffset])).toEqual(['0', '1']);
    expect(deadLetters[0]?.headers[DeadLetterHeader.consumerGroup]).toBe(groupId);
    expect(deadLetters[0]?.value?.toString()).toBe('no headers at all');
    await vi.waitFor(async () => expect(await committedCount(groupId, topic)).toBe(3), {
      timeout: 10_000,
      interval: 100,
    });
  });

  it('retries a failing handler with backoff and applies the event once it succeeds', async () => {
    const topic = uniqueTopic('orders');
    const dlq = uniqueTopic('orders.dlq');
    await ensureTopics(kafka, [{ topic }, { topic: dlq }]);
    const orderId = crypto.randomUUID();
    let attempts = 0;
    await startConsumer(topic, dlq, async (event, tx) => {
      attempts += 1;
      await applyOrderEvent(event, tx); // written, then rolled back with the claim while we fail
      if (attempts < 3) throw new Error(`flaky downstream (attempt ${attempts})`);
    });
    await commitEvents(topic, [
      orderEvent(orderId, OrderEventType.ORDER_EVENT_TYPE_CREATED, OrderStatus.ORDER_STATUS_CREATED),
    ]);
    await createOutboxRelay({ db, table: fixture.outbox, producer, logger }).publishPending();

    await vi.waitFor(async () => expect(await appliedFor(orderId)).toHaveLength(1), { timeout: 30_000, interval: 100 });
    expect(attempts).toBe(3);
  });

  it('dead-letters an event whose handler keeps failing, after the attempts run out', async () => {
    const topic = uniqueTopic('orders');
    const dlq = uniqueTopic('orders.dlq');
    await ensureTopics(kafka, [{ topic }, { topic: dlq }]);
    let attempts = 0;
    await startConsumer(topic, dlq, async () => {
      attempts += 1;
      throw new Error('always broken');
    });
    const event = orderEvent(
      crypto.randomUUID(),
      OrderEventType.ORDER_EVENT_TYPE_CREATED,
      OrderStatus.ORDER_STATUS_CREATED,
    );
    await commitEvents(topic, [event]);
    await createOutboxRelay({ db, table: fixture.outbox, producer, logger }).publishPending();

    const [deadLetter] = await readMessages(kafka, dlq, 1);
    expect(deadLetter?.headers[DeadLetterHeader.reason]).toBe('failed after 5 attempts: always broken');
    expect(deadLetter?.headers['event-id']).toBe(event.eventId);
    expect(attempts).toBe(5);
  });

  it('still backs off and dead-letters after it was stopped and started again', async () => {
    const topic = uniqueTopic('orders');
    const dlq = uniqueTopic('orders.dlq');
    await ensureTopics(kafka, [{ topic }, { topic: dlq }]);
    let attempts = 0;
    const alwaysBroken = async () => {
      attempts += 1;
      throw new Error('always broken');
    };
    await startConsumer(topic, dlq, alwaysBroken, { restarted: true });
    const event = orderEvent(
      crypto.randomUUID(),
      OrderEventType.ORDER_EVENT_TYPE_CREATED,
      OrderStatus.ORDER_STATUS_CREATED,
    );
    await commitEvents(topic, [event]);
    await createOutboxRelay({ db, table: fixture.outbox, producer, logger }).publishPending();

    const [deadLetter] = await readMessages(kafka, dlq, 1);
    expect(deadLetter?.headers[DeadLetterHeader.reason]).toBe('failed after 5 attempts: always broken');
    expect(attempts).toBe(5);
  });

  it('hands the partitions of a killed consumer process to its restarted successor well within the old 30 s', async () => {
    const topic = uniqueTopic('restart');
    const dlq = uniqueTopic('restart.dlq');
    await ensureTopics(kafka, [{ topic }, { topic: dlq }]);
    const groupId = uniqueTopic('group');
    const crashed = spawn(process.execPath, [join(import.meta.dirname, 'fixtures/consumer-process.ts')], {
      env: {
        ...process.env,
        KAFKA_BROKERS: testKafkaBrokers().join(','),
        DATABASE_URL: database.url,
        GROUP_ID: groupId,
        TOPIC: topic,
        DEAD_LETTER_TOPIC: dlq,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    crashed.stdout.on('data', (chunk) => {
      output += chunk;
    });
    await vi.waitFor(() => expect(output).toContain('joined'), { timeout: 30_000, interval: 50 });
    // Killed, not stopped: it never leaves the group, so the broker gives its partitions away only when its
    // session times out, and the successor's first join waits for that.
    crashed.kill('SIGKILL');
    await once(crashed, 'exit');

    const restartedAt = performance.now();
    const firstApplied = Promise.withResolvers<number>();
    await startConsumer(
      topic,
      dlq,
      async (event, tx) => {
        await applyOrderEvent(event, tx);
        firstApplied.resolve(performance.now());
      },
      { groupId },
    );
    await commitEvents(topic, [
      orderEvent(crypto.randomUUID(), OrderEventType.ORDER_EVENT_TYPE_CREATED, OrderStatus.ORDER_STATUS_CREATED),
    ]);
    await createOutboxRelay({ db, table: fixture.outbox, producer, logger }).publishPending();
    const seconds = ((await firstApplied.promise) - restartedAt) / 1_000;
    // About the 10 s session at most (measured 5-10 s; 21-31 s with kafkajs's 30 s), with room for a slow machine.
    expect(seconds, `first message ${seconds.toFixed(1)} s after the restart`).toBeLessThan(15);
  }, 60_000);

  it('publishes a backlog larger than the broker takes in one request, in several', async () => {
    const topic = uniqueTopic('backlog');
    await ensureTopics(kafka, [{ topic, partitions: 1 }]);
    // 500 events of 2.5 KB on one partition: 1.25 MB, more than Kafka's default 1 MB message size per request.
    await db.transaction((tx) =>
      addToOutbox(
        tx,
        fixture.outbox,
        Array.from({ length: 500 }, () => ({
          topic,
          key: 'one-key',
          eventId: crypto.randomUUID(),
          eventType: 'Backlog',
          payload: Buffer.alloc(2_500, 7),
        })),
      ),
    );
    const relay = createOutboxRelay({ db, table: fixture.outbox, producer, logger });
    let published = 0;
    for (let round = 0; round < 20 && published < 500; round += 1) published += await relay.publishPending();
    expect(published).toBe(500);
    const messages = await readMessages(kafka, topic, 500);
    expect(messages).toHaveLength(500);
  });

  it('refuses an event larger than the broker takes, and the transaction that wrote it, so no row blocks the relay', async () => {
    const topic = uniqueTopic('oversized');
    const tooLarge = { topic, key: 'k', eventType: 'Huge', payload: Buffer.alloc(MAX_EVENT_BYTES + 1) };
    const largest = { topic, key: 'k', eventType: 'Large', payload: Buffer.alloc(MAX_EVENT_BYTES) };
    const written = () => db.execute(sql`select event_type from platform_fixture.outbox where topic = ${topic}`);

    await expect(
      db.transaction(async (tx) => {
        await addToOutbox(tx, fixture.outbox, [largest]);
        await addToOutbox(tx, fixture.outbox, [tooLarge]);
      }),
    ).rejects.toThrow(/exceeds the outbox limit/);
    expect(await written()).toHaveLength(0);

    await ensureTopics(kafka, [{ topic, partitions: 1 }]);
    await db.transaction((tx) => addToOutbox(tx, fixture.outbox, [largest]));
    expect(await createOutboxRelay({ db, table: fixture.outbox, producer, logger }).publishPending()).toBe(1);
    const [message] = await readMessages(kafka, topic, 1);
    expect(message?.value?.byteLength).toBe(MAX_EVENT_BYTES);
  });

  it('leaves rows unpublished while the broker refuses them, and publishes them once it accepts', async () => {
    const topic = uniqueTopic('not-created-yet');
    const impatient = createKafka({
      clientId: 'impatient',
      brokers: testKafkaBrokers(),
      logger,
      retry: { retries: 1, initialRetryTime: 50 },
    });
    const impatientProducer = createProducer(impatient);
    await impatientProducer.connect();
    try {
      const relay = createOutboxRelay({ db, table: fixture.outbox, producer: impatientProducer, logger });
      const event = orderEvent(
        crypto.randomUUID(),
        OrderEventType.ORDER_EVENT_TYPE_CREATED,
        OrderStatus.ORDER_STATUS_CREATED,
      );
      await commitEvents(topic, [event]);
      const unpublished = () =>
        db.execute(
          sql`select 1 from platform_fixture.outbox where event_id = ${event.eventId} and published_at is null`,
        );

      await expect(relay.publishPending()).rejects.toThrow();
      expect(await unpublished()).toHaveLength(1);

      await ensureTopics(kafka, [{ topic }]);
      expect(await relay.publishPending()).toBe(1);
      expect(await unpublished()).toHaveLength(0);
      const [message] = await readMessages(kafka, topic, 1);
      expect(message?.headers['event-id']).toBe(event.eventId);
    } finally {
      await impatientProducer.disconnect();
    }
  });
});
