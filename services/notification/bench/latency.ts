/**
 * `make bench-notification`: end-to-end latency of an order email. The notification service runs as its own process
 * (`node src/main.ts`, as in production) on a fresh database, with a real Kafka broker (KAFKA_BROKERS, else one this
 * bench starts) and a real local SMTP server (smtp-server, answering each message once its bytes are in, as a
 * queueing relay does, without parsing it). The bench publishes BENCH_EVENTS OrderCreated events at a steady
 * BENCH_RATE per second, exactly as checkout's outbox relay would, and measures for each one the time from publishing
 * (the Kafka message timestamp) to the moment the SMTP server had the whole email; then the same at rates 1.5x apart
 * while they are sustained (BENCH_SEARCH). Prints median, p90, p99 and max per rate, the service's CPU per email, the
 * bench process's own load (so that a limit of its own shows), and the highest sustained rate; exits 1 when an
 * email is missing or arrived twice. */
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
import { type ReceivedMail, startSmtpSink } from '../test/smtp-sink.ts';

const config = loadConfig({
  /** Events of each measured rate. */
  BENCH_EVENTS: env.positiveInt(2_000),
  /** Events published per second, evenly spaced: the first rate measured. */
  BENCH_RATE: env.positiveInt(200),
  /** After BENCH_RATE, rates SEARCH_FACTOR times higher each, while they are sustained (see `sustained`); 0: no search. */
  BENCH_SEARCH: z.coerce.number().int().min(0).max(1).default(1),
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
  const smtp = await startSmtpSink(0, { parse: false });
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
      await publish.run('warmup', config.BENCH_WARMUP_EVENTS, config.BENCH_RATE);
      await waitForMails(smtp.mails, config.BENCH_WARMUP_EVENTS);
      smtp.mails.length = 0;
      progress(`${config.BENCH_WARMUP_EVENTS} warm-up events delivered; measuring`);
    }
    const steps: RateFigures[] = [];
    for (let rate = config.BENCH_RATE; ; rate = Math.round(rate * SEARCH_FACTOR)) {
      const figures = await measureRate(rate, `r${rate}`, publish, smtp.mails, service.pid, database.url);
      process.stdout.write(formatRate(figures));
      steps.push(figures);
      if (!config.BENCH_SEARCH || !sustained(figures) || steps.length >= SEARCH_STEPS) break;
    }
    if (config.BENCH_SEARCH) process.stdout.write(formatSearch(steps));
    failed = steps.some((step) => step.missing > 0 || step.doubled > 0);
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

/** The p99 publish → mailbox a rate must keep to count as sustained, and the share of it that must get through. */
const P99_BOUND_MS = 250;
const MIN_THROUGHPUT_SHARE = 0.95;
const SEARCH_FACTOR = 1.5;
const SEARCH_STEPS = 6;
/** Above this share of the bench process's event loop busy, its publisher or SMTP server may have set the pace. */
const BUSY_BENCH_LOOP = 0.8;

interface RateFigures {
  rate: number;
  events: number;
  seconds: number;
  emails: number;
  missing: number;
  doubled: number;
  /** Publish → whole email at the SMTP server, sorted, ms. */
  latencies: number[];
  /** Publish → the consumer's transaction began, sorted, ms. */
  toRecorded: number[];
  behindMs: number;
  publishedPerSecond: number;
  throughput: number;
  serviceCpuMsPerEmail: number | undefined;
  /** The bench process (publisher and SMTP server): CPU share of one core and event-loop busy share. */
  benchCpuShare: number;
  benchLoopBusy: number;
}

/** `count` events at `rate`, every email awaited; the service's and the bench process's own costs alongside. */
async function measureRate(
  rate: number,
  prefix: string,
  publish: ReturnType<typeof publisher>,
  mails: ReceivedMail[],
  servicePid: number | undefined,
  databaseUrl: string,
): Promise<RateFigures> {
  const events = config.BENCH_EVENTS;
  progress(`${events} events at ${rate}/s`);
  mails.length = 0;
  const start = performance.now();
  const cpuBefore = await cpuSecondsOf(servicePid);
  const benchCpuBefore = process.cpuUsage();
  const loopBefore = performance.eventLoopUtilization();
  const { published, behindMs, publishSeconds } = await publish.run(prefix, events, rate);
  await waitForMails(mails, events);
  const benchLoop = performance.eventLoopUtilization(loopBefore);
  const benchCpu = process.cpuUsage(benchCpuBefore);
  const cpuAfter = await cpuSecondsOf(servicePid);
  const elapsedMs = performance.now() - start;
  await sleep(500); // a duplicate would arrive by now
  const recorded = await recordedTimes(databaseUrl);

  const latencies: number[] = [];
  const toRecorded: number[] = [];
  const perRecipient = new Map<string, number>();
  for (const mail of mails) {
    const to = mail.to[0] ?? '';
    if (!published.has(to)) continue;
    perRecipient.set(to, (perRecipient.get(to) ?? 0) + 1);
    const sentAt = published.get(to) as number;
    if (perRecipient.get(to) !== 1) continue;
    latencies.push(mail.receivedAt - sentAt);
    const recordedAt = recorded.get(to);
    if (recordedAt !== undefined) toRecorded.push(recordedAt - sentAt);
  }
  const ours = mails.filter((mail) => published.has(mail.to[0] ?? ''));
  const lastMailAt = Math.max(...ours.map((mail) => mail.receivedAt));
  const firstPublish = Math.min(...published.values());
  if (process.env.BENCH_DEBUG) process.stderr.write(`${JSON.stringify(latencies)}\n`);
  return {
    rate,
    events,
    seconds: elapsedMs / 1_000,
    emails: ours.length,
    missing: events - perRecipient.size,
    doubled: [...perRecipient.values()].filter((count) => count > 1).length,
    latencies: latencies.sort((a, b) => a - b),
    toRecorded: toRecorded.sort((a, b) => a - b),
    behindMs,
    publishedPerSecond: events / publishSeconds,
    throughput: (ours.length / Math.max(1, lastMailAt - firstPublish)) * 1_000,
    serviceCpuMsPerEmail:
      cpuBefore !== undefined && cpuAfter !== undefined ? ((cpuAfter - cpuBefore) * 1_000) / events : undefined,
    benchCpuShare: (benchCpu.user + benchCpu.system) / 1_000 / elapsedMs,
    benchLoopBusy: benchLoop.utilization,
  };
}

/** Every email once, p99 within bounds, nearly all of the rate through, and a bench process that kept up. */
const sustained = (f: RateFigures): boolean =>
  f.missing === 0 &&
  f.doubled === 0 &&
  Number(quantile(f.latencies, 0.99)) <= P99_BOUND_MS &&
  f.throughput >= MIN_THROUGHPUT_SHARE * f.rate &&
  f.benchLoopBusy < BUSY_BENCH_LOOP;

function formatRate(f: RateFigures): string {
  const benchLimited = f.benchLoopBusy >= BUSY_BENCH_LOOP || f.behindMs > 100;
  return [
    '',
    `notification latency: Kafka publish → email received by the SMTP server`,
    `  events ${f.events} at ${f.rate}/s over ${config.BENCH_PARTITIONS} partitions, ${f.seconds.toFixed(1)} s (after ${config.BENCH_WARMUP_EVENTS} warm-up events)`,
    `  emails ${f.emails}, missing ${f.missing}, doubled ${f.doubled}`,
    `  median ${quantile(f.latencies, 0.5)} ms, p90 ${quantile(f.latencies, 0.9)} ms, p99 ${quantile(f.latencies, 0.99)} ms, max ${f.latencies.at(-1) ?? '-'} ms, min ${f.latencies[0] ?? '-'} ms`,
    `  publish → recorded (the consumer's transaction began): median ${quantile(f.toRecorded, 0.5)} ms, p99 ${quantile(f.toRecorded, 0.99)} ms`,
    `  throughput ${f.throughput.toFixed(0)} emails/s (first publish → last email)`,
    f.serviceCpuMsPerEmail !== undefined
      ? `  service CPU ${f.serviceCpuMsPerEmail.toFixed(2)} ms per email (user + system)`
      : '  service CPU: not measured (no /proc)',
    `  bench process ${(f.benchCpuShare * 100).toFixed(0)}% of a core, event loop ${(f.benchLoopBusy * 100).toFixed(0)}% busy (publisher + SMTP server); published ${f.publishedPerSecond.toFixed(0)}/s, at most ${f.behindMs.toFixed(0)} ms behind schedule`,
    `  generator                 ${benchLimited ? 'MAY BE THE LIMIT: its loop was busy or it fell behind; the figures understate the service' : 'kept up (not the limit)'}`,
    '',
  ].join('\n');
}

function formatSearch(steps: readonly RateFigures[]): string {
  const held = steps.filter(sustained).at(-1);
  return [
    `search: rates ${SEARCH_FACTOR}x apart while p99 <= ${P99_BOUND_MS} ms and >= ${MIN_THROUGHPUT_SHARE * 100}% of the rate gets through`,
    '     rate  emails/s   median      p99  bench loop',
    ...steps.map(
      (f) =>
        `  ${String(f.rate).padStart(7)} ${f.throughput.toFixed(0).padStart(9)} ${String(quantile(f.latencies, 0.5)).padStart(8)} ${String(quantile(f.latencies, 0.99)).padStart(8)} ${`${(f.benchLoopBusy * 100).toFixed(0)}%`.padStart(10)}  ${sustained(f) ? 'sustained' : 'not sustained'}`,
    ),
    `  highest sustained rate: ${held ? `${held.rate} events/s` : `none (not even ${steps[0]?.rate}/s)`}`,
    '',
  ].join('\n');
}

interface PublishRun {
  /** Each recipient's publish time (the Kafka message timestamp). */
  published: Map<string, number>;
  /** How far the generator fell behind its schedule at worst: above a few ms, it did not keep up with BENCH_RATE. */
  behindMs: number;
  publishSeconds: number;
}

/** Publishes `count` events at `rate` per second, one per message like the outbox relay. */
function publisher(producer: Producer, topic: string) {
  return {
    async run(prefix: string, count: number, rate: number): Promise<PublishRun> {
      const published = new Map<string, number>();
      const interval = 1_000 / rate;
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
