import { randomBytes, randomUUID } from 'node:crypto';
import { EventTypeHeader } from '@ticket/contracts/topology';
import { OrderStatus, type Refund, RefundReason, RefundStatus } from '@ticket/contracts/v1/checkout/checkout_service';
import { OrderEvent, OrderEventType } from '@ticket/contracts/v1/checkout/order_events';
import {
  type ListNotificationsRequest,
  NotificationServiceDefinition,
} from '@ticket/contracts/v1/notification/notification_service';
import {
  createKafka,
  createLogger,
  createProducer,
  createServiceClient,
  ensureTopics,
  eventHeaders,
  type Kafka,
  type Producer,
  type Role,
  type ServiceClient,
} from '@ticket/platform';
import {
  createServiceTestDatabase,
  type ServiceTestDatabase,
  testCallers,
  testKafkaBrokers,
  uniqueTopic,
} from '@ticket/platform/testing';
import type { IHeaders } from 'kafkajs';
import postgres from 'postgres';
import { loadNotificationConfig, type NotificationConfig } from '../src/config.ts';
import {
  NOTIFICATION_MIGRATIONS,
  NOTIFICATION_SCHEMA,
  type RunningNotificationService,
  startNotificationService,
} from '../src/service.ts';
import { type SmtpSink, startSmtpSink } from './smtp-sink.ts';

export const logger = createLogger({ name: 'notification-test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export type Kind =
  | 'CREATED'
  | 'PAID'
  | 'CANCELLED'
  | 'EXPIRED'
  | 'FAILED'
  | 'PAYMENT_FAILED'
  | 'REFUNDED'
  | 'LATE_PAYMENT_REFUNDED';

export interface HarnessOptions {
  /** Configuration overrides (e.g. NOTIFICATION_CHANNEL=log). */
  env?: Record<string, string>;
  /** Brokers other than the test run's shared one (a broker the test stops and restarts). */
  brokers?: string[];
  /** Start a local SMTP server and send email through it (default true). */
  smtp?: boolean;
}

export interface NotificationHarness {
  /** `url` is the superuser's; the service connects as its own role (`roleUrl(NOTIFICATION_SCHEMA)`). */
  database: ServiceTestDatabase;
  /** Direct SQL on the service's database (as superuser), to check what it recorded. */
  sql: postgres.Sql;
  config: NotificationConfig;
  smtp: SmtpSink | undefined;
  kafka: Kafka;
  /** The running instance (replaced by restart()). */
  service: RunningNotificationService;
  /** Publishes an OrderEvent exactly as checkout's outbox relay does: key = order id, event-id/event-type headers. */
  publish(event: OrderEvent): Promise<void>;
  publishMany(events: readonly OrderEvent[]): Promise<void>;
  /** Publishes anything (garbage, missing headers) to the order-events topic. */
  publishRaw(message: { key?: string; value: Buffer | null; headers?: IHeaders }): Promise<void>;
  /**
   * ListNotifications as `callerId` with `roles` (a token for that user; no roles: a buyer), or without credentials
   * when callerId is undefined.
   */
  list(
    request: Partial<ListNotificationsRequest>,
    callerId?: string,
    roles?: readonly Role[],
  ): ReturnType<NotificationClient['listNotifications']>;
  /** ListNotifications with these call options (a token the test made). */
  listWith(
    request: Partial<ListNotificationsRequest>,
    options: Parameters<NotificationClient['listNotifications']>[1],
  ): ReturnType<NotificationClient['listNotifications']>;
  stopService(): Promise<void>;
  startService(): Promise<RunningNotificationService>;
  close(): Promise<void>;
}

type NotificationClient = ServiceClient<typeof NotificationServiceDefinition>['client'];

export const TEST_SECRET = randomBytes(32).toString('base64url');
const callers = testCallers(TEST_SECRET);

/**
 * A real notification service on its own fresh database, order-events topic and consumer group, a real local SMTP
 * server, a Kafka producer that publishes like checkout's outbox relay, and a gRPC client.
 */
export async function startNotificationHarness(options: HarnessOptions = {}): Promise<NotificationHarness> {
  const database = await createServiceTestDatabase('notification', [
    { schema: NOTIFICATION_SCHEMA, migrationsFolder: NOTIFICATION_MIGRATIONS },
  ]);
  const smtp = options.smtp === false ? undefined : await startSmtpSink();
  const brokers = options.brokers ?? testKafkaBrokers();
  const topic = uniqueTopic('order-events');
  const config = loadNotificationConfig({
    DATABASE_URL: database.roleUrl(NOTIFICATION_SCHEMA),
    DATABASE_POOL_SIZE: '5',
    KAFKA_BROKERS: brokers.join(','),
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    ORDER_EVENTS_TOPIC: topic,
    ORDER_EVENTS_DLQ_TOPIC: `${topic}.dlq`,
    KAFKA_GROUP_ID: `notification-${randomBytes(4).toString('hex')}`,
    AUTH_JWT_SECRET: TEST_SECRET,
    NOTIFY_RETRY_BASE_MS: '100',
    NOTIFY_POLL_INTERVAL_MS: '200',
    HEALTH_CHECK_INTERVAL_MS: '500',
    SMTP_TIMEOUT_MS: '5000',
    ...(smtp ? { NOTIFICATION_CHANNEL: 'email', SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.port) } : {}),
    ...options.env,
  });
  const kafka = createKafka({ clientId: 'notification-test', brokers, logger });
  await ensureTopics(kafka, [{ topic }, { topic: config.ORDER_EVENTS_DLQ_TOPIC }]);
  const producer: Producer = createProducer(kafka);
  await producer.connect();

  let service = await startNotificationService(config, logger);
  let stopped = false;
  let client = createServiceClient(NotificationServiceDefinition, `127.0.0.1:${service.port}`, { deadlineMs: 10_000 });
  const sql = postgres(database.url, { max: 3, onnotice: () => {} });

  async function publishMany(events: readonly OrderEvent[]): Promise<void> {
    await producer.send({
      topic,
      acks: -1,
      messages: events.map((event) => ({
        key: event.order?.id ?? null,
        value: Buffer.from(OrderEvent.encode(event).finish()),
        headers: eventHeaders(event.eventId, EVENT_TYPE_HEADER[event.eventType] ?? 'unknown'),
      })),
    });
  }

  return {
    database,
    sql,
    config,
    smtp,
    kafka,
    get service() {
      return service;
    },
    publish: (event) => publishMany([event]),
    publishMany,
    async publishRaw(message) {
      await producer.send({ topic, acks: -1, messages: [{ key: message.key ?? null, ...message }] });
    },
    async list(request, callerId, roles) {
      const options = callerId === undefined ? {} : await callers.as(callerId, roles);
      return client.client.listNotifications(request, options);
    },
    listWith: (request, options) => client.client.listNotifications(request, options),
    async stopService() {
      if (stopped) return;
      stopped = true;
      client.close();
      await service.stop();
    },
    async startService() {
      service = await startNotificationService(config, logger);
      stopped = false;
      client = createServiceClient(NotificationServiceDefinition, `127.0.0.1:${service.port}`, { deadlineMs: 10_000 });
      return service;
    },
    async close() {
      if (!stopped) {
        client.close();
        await service.stop();
      }
      await producer.disconnect();
      await smtp?.close();
      await sql.end();
      await database.drop();
    },
  };
}

/** The event-type header checkout's outbox writes for each type. */
const EVENT_TYPE_HEADER: Partial<Record<OrderEventType, string>> = {
  [OrderEventType.ORDER_EVENT_TYPE_CREATED]: EventTypeHeader.orderCreated,
  [OrderEventType.ORDER_EVENT_TYPE_PAID]: EventTypeHeader.orderPaid,
  [OrderEventType.ORDER_EVENT_TYPE_CANCELLED]: EventTypeHeader.orderCancelled,
  [OrderEventType.ORDER_EVENT_TYPE_EXPIRED]: EventTypeHeader.orderExpired,
  [OrderEventType.ORDER_EVENT_TYPE_FAILED]: EventTypeHeader.orderFailed,
  [OrderEventType.ORDER_EVENT_TYPE_PAYMENT_FAILED]: EventTypeHeader.orderPaymentFailed,
  [OrderEventType.ORDER_EVENT_TYPE_REFUNDED]: EventTypeHeader.orderRefunded,
  [OrderEventType.ORDER_EVENT_TYPE_LATE_PAYMENT_REFUNDED]: EventTypeHeader.latePaymentRefunded,
};

const EVENT_TYPE: Record<Kind, OrderEventType> = {
  CREATED: OrderEventType.ORDER_EVENT_TYPE_CREATED,
  PAID: OrderEventType.ORDER_EVENT_TYPE_PAID,
  CANCELLED: OrderEventType.ORDER_EVENT_TYPE_CANCELLED,
  EXPIRED: OrderEventType.ORDER_EVENT_TYPE_EXPIRED,
  FAILED: OrderEventType.ORDER_EVENT_TYPE_FAILED,
  PAYMENT_FAILED: OrderEventType.ORDER_EVENT_TYPE_PAYMENT_FAILED,
  REFUNDED: OrderEventType.ORDER_EVENT_TYPE_REFUNDED,
  LATE_PAYMENT_REFUNDED: OrderEventType.ORDER_EVENT_TYPE_LATE_PAYMENT_REFUNDED,
};

const ORDER_STATUS: Record<Kind, OrderStatus> = {
  CREATED: OrderStatus.ORDER_STATUS_CREATED,
  PAID: OrderStatus.ORDER_STATUS_PAID,
  CANCELLED: OrderStatus.ORDER_STATUS_CANCELLED,
  EXPIRED: OrderStatus.ORDER_STATUS_EXPIRED,
  FAILED: OrderStatus.ORDER_STATUS_FAILED,
  // A declined attempt leaves the order payable; a refund of some tickets leaves the others valid; a late payment
  // most often meets an expired order. `status` overrides these.
  PAYMENT_FAILED: OrderStatus.ORDER_STATUS_CREATED,
  REFUNDED: OrderStatus.ORDER_STATUS_PARTIALLY_REFUNDED,
  LATE_PAYMENT_REFUNDED: OrderStatus.ORDER_STATUS_EXPIRED,
};

/** Kinds whose order was paid and holds ticket codes. */
const HAS_TICKETS: ReadonlySet<Kind> = new Set(['PAID', 'REFUNDED']);

export interface TestOrder {
  id: string;
  userId: string;
  email: string;
  ticketTypeId: string;
}

export const newOrder = (overrides: Partial<TestOrder> = {}): TestOrder => ({
  id: randomUUID(),
  userId: 'user-1',
  email: `buyer-${randomBytes(3).toString('hex')}@example.com`,
  ticketTypeId: randomUUID(),
  ...overrides,
});

export interface EventOptions {
  eventId?: string;
  refundPaymentReference?: string;
  failureReason?: string;
  ticketCodes?: string[];
  /** Codes among ticketCodes that are voided (refunded). */
  voidedCodes?: string[];
  /** The order status, when not the kind's usual one. */
  status?: OrderStatus;
  /** order.payment.pay_url; with one, the order has a payment session. */
  payUrl?: string;
  /** The refund a REFUNDED or LATE_PAYMENT_REFUNDED event names. */
  refund?: Partial<Refund>;
}

/** A refund as checkout names it in an event: €12.50 back, confirmed by the provider. */
export function refundOf(overrides: Partial<Refund> = {}): Partial<Refund> {
  return {
    id: randomUUID(),
    paymentId: 'sandbox_pay_1',
    amount: { amountMinor: 1250, currency: 'EUR' },
    reason: RefundReason.REFUND_REASON_REQUESTED,
    status: RefundStatus.REFUND_STATUS_SUCCEEDED,
    ticketCodes: [],
    createdAt: new Date('2026-11-24T09:00:00Z'),
    refundedAt: new Date('2026-11-24T09:01:00Z'),
    ...overrides,
  };
}

/** The OrderEvent checkout would publish for `kind`: 2 × €12.50 "Standing", held until 15 minutes after creation. */
export function orderEvent(order: TestOrder, kind: Kind, options: EventOptions = {}): OrderEvent {
  const createdAt = new Date('2026-11-23T10:00:00Z');
  const paid = HAS_TICKETS.has(kind);
  const voided = new Set(options.voidedCodes ?? []);
  return OrderEvent.fromPartial({
    eventId: options.eventId ?? randomUUID(),
    eventType: EVENT_TYPE[kind],
    occurredAt: new Date(),
    refundPaymentReference: options.refundPaymentReference ?? '',
    refund: options.refund,
    order: {
      id: order.id,
      userId: order.userId,
      email: order.email,
      status: options.status ?? ORDER_STATUS[kind],
      items: [
        {
          eventId: randomUUID(),
          ticketTypeId: order.ticketTypeId,
          ticketTypeName: 'Standing',
          unitPrice: { amountMinor: 1250, currency: 'EUR' },
          quantity: 2,
        },
      ],
      total: { amountMinor: 2500, currency: 'EUR' },
      createdAt,
      updatedAt: new Date(),
      expiresAt: new Date(createdAt.getTime() + 15 * 60_000),
      paidAt: paid ? new Date('2026-11-23T10:05:00Z') : undefined,
      paymentReference: paid ? 'pay-123' : '',
      tickets: paid
        ? (options.ticketCodes ?? ['TCK-0001', 'TCK-0002']).map((code) => ({
            code,
            eventId: randomUUID(),
            ticketTypeId: order.ticketTypeId,
            voided: voided.has(code),
          }))
        : [],
      failureReason: options.failureReason ?? '',
      payment:
        options.payUrl === undefined
          ? undefined
          : { provider: 'sandbox', paymentId: 'sandbox_pay_1', clientSecret: '', payUrl: options.payUrl },
      refunds: options.refund ? [options.refund] : [],
    },
  });
}

export interface NotificationRow {
  id: string;
  order_id: string;
  kind: Kind;
  channel: string;
  status: string;
  recipient: string;
  subject: string;
  attempts: number;
  last_error: string | null;
  source_event_id: string;
  sent_at: Date | null;
}

export async function notificationRows(sql: postgres.Sql, orderId?: string): Promise<NotificationRow[]> {
  return sql<NotificationRow[]>`
    select id, order_id, kind, channel, status, recipient, subject, attempts, last_error, source_event_id, sent_at
    from notification.notifications
    where ${orderId === undefined ? sql`true` : sql`order_id = ${orderId}`}
    order by seq`;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value that is not undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

export { callOutcome as outcomeOf } from '@ticket/platform/testing';
