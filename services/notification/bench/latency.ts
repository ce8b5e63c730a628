/**
 * `make bench-notification`: end-to-end latency of an order email. The notification service runs as its own process
 * (`node src/main.ts`, as in production) on a fresh database, with a real Kafka broker (KAFKA_BROKERS, else one this
 * bench starts) and a real local SMTP server (smtp-server). The bench publishes BENCH_EVENTS OrderCreated events at a
 * steady BENCH_RATE per second, exactly as checkout's outbox relay would, and measures for each one the time from
 * publishing (the Kafka message timestamp) to the moment the SMTP server had the whole email. Prints median, p90,
 * p99 and max; exits 1 when an email is missing or arrived twice.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventTypeHeader } from '@ticket/contracts/topology';
import { OrderEvent, OrderEventType } from '@ticket/contracts/v1/checkout/order_events';
import {
  createKafka,
  createLogger,
  createProducer,
  ensureTopics,
  env,
  eventHeaders,
  loadConfig,
  type Producer,
} from '@ticket/platform';
import { createServiceTestDatabase, freePort, type KafkaBroker, startKafkaBroker } from '@ticket/platform/testing';
import { createChannel, createClient } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import { HealthCheckResponse_ServingStatus } from 'nice-grpc-server-health/lib/proto/grpc/health/v1/health.js';
import postgres from 'postgres';
import { z } from 'zod';
import { NOTIFICATION_MIGRATIONS, NOTIFICATION_SCHEMA } from '../src/service.ts';
import { startSmtpSink } from '../test/smtp-sink.ts';

const config = loadConfig({
  BENCH_EVENTS: env.positiveInt(300),
  /** Events published per second, evenly spaced. */
  BENCH_RATE: env.positiveInt(50),
  /** Events published (same rate) and awaited before the measured ones, not counted: JIT, connections, pools. */
  BENCH_WARMUP_EVENTS: z.coerce.number().int().min(0).default(100),
  /** Partitions of the bench's order-events topic. */
  BENCH_PARTITIONS: env.positiveInt(3),
  KAFKA_BROKERS: z.string().optional(),
  BENCH_SERVICE_LOG_LEVEL: env.logLevel().default('warn'),
});

const MAIN = join(import.meta.dirname, '../src/main.ts');
const logger = createLogger({ name: 'bench-notification', level: 'warn' });
const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);

async function main(): Promise<number> {
  const workDir = await mkdtemp(join(tmpdir(), 'bench-notification-'));
  const broker: KafkaBroker | undefined = config.KAFKA_BROKERS ? undefined : await startKafkaBroker();
  const brokers = broker?.brokers ?? (config.KAFKA_BROKERS ?? '').split(',');
  progress(broker ? `started a Kafka broker on ${brokers.join(',')}` : `using Kafka at ${brokers.join(',')}`);
  const database = await createServiceTestDatabase('bench_notification', [
    { schema: NOTIFICATION_SCHEMA, migrationsFolder: NOTIFICATION_MIGRATIONS },
  ]);
  const smtp = await startSmtpSink();
  const topic = `bench.order-events.${randomBytes(4).toString('hex')}`;
  const kafka = createKafka({ clientId: 'bench-notification', brokers, logger });
  await ensureTopics(kafka, [{ topic, partitions: config.BENCH_PARTITIONS }]);
  const producer = createProducer(kafka);
  await producer.connect();
  const grpcPort = await freePort();
  const service = startService(workDir, {
    DATABASE_URL: database.roleUrl(NOTIFICATION_SCHEMA),
    KAFKA_BROKERS: brokers.join(','),
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: String(grpcPort),
    ORDER_EVENTS_TOPIC: topic,
    ORDER_EVENTS_DLQ_TOPIC: `${topic}.dlq`,
    KAFKA_GROUP_ID: `bench-${randomBytes(4).toString('hex')}`,
    NOTIFICATION_CHANNEL: 'email',
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(smtp.port),
    AUTH_JWT_SECRET: randomBytes(32).toString('base64url'),
    HEALTH_CHECK_INTERVAL_MS: '500',
    LOG_LEVEL: config.BENCH_SERVICE_LOG_LEVEL,
  });
  let failed = true;
  try {
    await waitUntilServing(grpcPort);
    progress(`service serving on :${grpcPort}; publishing ${config.BENCH_EVENTS} events at ${config.BENCH_RATE}/s`);
    const publish = publisher(producer, topic);
    if (config.BENCH_WARMUP_EVENTS > 0) {
      await publish.run('warmup', config.BENCH_WARMUP_EVENTS);
      await waitForMails(smtp.mails, config.BENCH_WARMUP_EVENTS);
      smtp.mails.length = 0;
      progress(`${config.BENCH_WARMUP_EVENTS} warm-up events delivered; measuring`);
    }
    const start = performance.now();
    const cpuBefore = await cpuSecondsOf(service.pid);
    const { published, behindMs, publishSeconds } = await publish.run('bench', config.BENCH_EVENTS);
    await waitForMails(smtp.mails, config.BENCH_EVENTS);
    const lastMailAt = Math.max(...smtp.mails.map((mail) => mail.receivedAt));
    const cpuAfter = await cpuSecondsOf(service.pid);
    await sleep(500); // a duplicate would arrive by now
    const recorded = await recordedTimes(database.url);

    const latencies: number[] = [];
    const toRecorded: number[] = [];
    const perRecipient = new Map<string, number>();
    for (const mail of smtp.mails) {
      const to = mail.to[0] ?? '';
      perRecipient.set(to, (perRecipient.get(to) ?? 0) + 1);
      const sentAt = published.get(to);
      if (sentAt === undefined || perRecipient.get(to) !== 1) continue;
      latencies.push(mail.receivedAt - sentAt);
      const recordedAt = recorded.get(to);
      if (recordedAt !== undefined) toRecorded.push(recordedAt - sentAt);
    }
    toRecorded.sort((a, b) => a - b);
    const firstPublish = Math.min(...published.values());
    const throughput = (smtp.mails.length / Math.max(1, lastMailAt - firstPublish)) * 1_000;
    const missing = config.BENCH_EVENTS - perRecipient.size;
    const doubled = [...perRecipient.values()].filter((count) => count > 1).length;
    if (process.env.BENCH_DEBUG) process.stderr.write(`${JSON.stringify(latencies)}\n`);
    latencies.sort((a, b) => a - b);
    const seconds = (performance.now() - start) / 1_000;
    process.stdout.write(
      [
        '',
        `notification latency: Kafka publish → email received by the SMTP server`,
        `  events ${config.BENCH_EVENTS} at ${config.BENCH_RATE}/s over ${config.BENCH_PARTITIONS} partitions, ${seconds.toFixed(1)} s (after ${config.BENCH_WARMUP_EVENTS} warm-up events)`,
        `  emails ${smtp.mails.length}, missing ${missing}, doubled ${doubled}`,
        `  median ${quantile(latencies, 0.5)} ms, p90 ${quantile(latencies, 0.9)} ms, p99 ${quantile(latencies, 0.99)} ms, max ${latencies.at(-1) ?? '-'} ms, min ${latencies[0] ?? '-'} ms`,
        `  publish → recorded (the consumer's transaction began): median ${quantile(toRecorded, 0.5)} ms, p99 ${quantile(toRecorded, 0.99)} ms`,
        `  generator ${(config.BENCH_EVENTS / publishSeconds).toFixed(0)}/s (target ${config.BENCH_RATE}/s), at most ${behindMs.toFixed(0)} ms behind schedule${behindMs > 100 ? ': it did not keep up, the figures understate the load' : ''}`,
        `  throughput ${throughput.toFixed(0)} emails/s (first publish → last email)`,
        cpuBefore !== undefined && cpuAfter !== undefined
          ? `  service CPU ${(((cpuAfter - cpuBefore) * 1_000) / config.BENCH_EVENTS).toFixed(2)} ms per email (user + system)`
          : '  service CPU: not measured (no /proc)',
        '',
      ].join('\n'),
    );
    failed = missing > 0 || doubled > 0;
  } finally {
    await stopService(service);
    await producer.disconnect();
    await smtp.close();
    await database.drop();
    await broker?.destroy();
    if (failed || process.env.BENCH_PRINT_LOG)
      process.stderr.write(await readFile(join(workDir, 'service.log'), 'utf8').catch(() => ''));
    await rm(workDir, { recursive: true, force: true });
  }
  return failed ? 1 : 0;
}

interface PublishRun {
  /** Each recipient's publish time (the Kafka message timestamp). */
  published: Map<string, number>;
  /** How far the generator fell behind its schedule at worst: above a few ms, it did not keep up with BENCH_RATE. */
  behindMs: number;
  publishSeconds: number;
}

/** Publishes `count` events at BENCH_RATE, one per message like the outbox relay. */
function publisher(producer: Producer, topic: string) {
  return {
    async run(prefix: string, count: number): Promise<PublishRun> {
      const published = new Map<string, number>();
      const interval = 1_000 / config.BENCH_RATE;
      const start = performance.now();
      const sends: Promise<unknown>[] = [];
      let behindMs = 0;
      for (let i = 0; i < count; i += 1) {
        const wait = start + i * interval - performance.now();
        if (wait > 0) await sleep(wait);
        else behindMs = Math.max(behindMs, -wait);
        const email = `${prefix}-${i}@example.com`;
        const event = createdEvent(email);
        const timestamp = Date.now();
        published.set(email, timestamp);
        sends.push(
          producer.send({
            topic,
            acks: -1,
            messages: [
              {
                key: event.order!.id,
                value: Buffer.from(OrderEvent.encode(event).finish()),
                headers: eventHeaders(event.eventId, EventTypeHeader.orderCreated),
                timestamp: String(timestamp),
              },
            ],
          }),
        );
      }
      const publishSeconds = (performance.now() - start) / 1_000;
      await Promise.all(sends);
      return { published, behindMs, publishSeconds };
    },
  };
}

/**
 * CPU time (user + system) the process has used, from /proc (Linux): what one email costs the service, a figure less
 * at the mercy of a busy machine than the latencies are.
 */
async function cpuSecondsOf(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    // Fields 14 and 15 (utime, stime), counted after the command name, which may contain spaces.
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** USER_HZ: 100 on every Linux platform Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/** When each recipient's notification was recorded (its created_at: the consumer transaction's start). */
async function recordedTimes(url: string): Promise<Map<string, number>> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ recipient: string; recorded_ms: string }[]>`
      select recipient, extract(epoch from created_at) * 1000 as recorded_ms from notification.notifications`;
    return new Map(rows.map((row) => [row.recipient, Math.round(Number(row.recorded_ms))]));
  } finally {
    await sql.end();
  }
}

async function waitForMails(mails: readonly unknown[], count: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (mails.length < count && Date.now() < deadline) await sleep(50);
}

function createdEvent(email: string): OrderEvent {
  const now = new Date();
  return OrderEvent.fromPartial({
    eventId: randomUUID(),
    eventType: OrderEventType.ORDER_EVENT_TYPE_CREATED,
    occurredAt: now,
    order: {
      id: randomUUID(),
      userId: 'bench-user',
      email,
      items: [
        {
          eventId: randomUUID(),
          ticketTypeId: randomUUID(),
          ticketTypeName: 'Standing',
          unitPrice: { amountMinor: 4_500, currency: 'EUR' },
          quantity: 2,
        },
      ],
      total: { amountMinor: 9_000, currency: 'EUR' },
      createdAt: now,
      updatedAt: now,
      expiresAt: new Date(now.getTime() + 15 * 60_000),
    },
  });
}

/** The value below which `q` of the sorted samples fall (nearest rank). */
function quantile(sorted: readonly number[], q: number): number | string {
  if (sorted.length === 0) return '-';
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function startService(workDir: string, environment: Record<string, string>): ChildProcess {
  const log = createWriteStream(join(workDir, 'service.log'));
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

async function stopService(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function waitUntilServing(port: number): Promise<void> {
  const channel = createChannel(`127.0.0.1:${port}`);
  const health = createClient(HealthDefinition, channel);
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const status = await health.check({ service: '' }).then(
        (answer) => answer.status,
        () => undefined,
      );
      if (status === HealthCheckResponse_ServingStatus.SERVING) return;
      if (Date.now() > deadline) throw new Error('the notification service did not become SERVING within 60 s');
      await sleep(200);
    }
  } finally {
    channel.close();
  }
}

process.exitCode = await main();
