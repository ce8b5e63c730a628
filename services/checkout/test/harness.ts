import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadBookingConfig } from '@ticket/booking/config';
import {
  BOOKING_MIGRATIONS,
  BOOKING_SCHEMA,
  type RunningBookingService,
  startBookingService,
} from '@ticket/booking/service';
import { BookingServiceDefinition } from '@ticket/contracts/v1/booking/booking_service';
import { CheckoutServiceDefinition } from '@ticket/contracts/v1/checkout/checkout_service';
import { OrderEvent } from '@ticket/contracts/v1/checkout/order_events';
import { type Event, EventServiceDefinition } from '@ticket/contracts/v1/event/event_service';
import { loadEventConfig } from '@ticket/event/config';
import { EVENT_MIGRATIONS, EVENT_SCHEMA, type RunningEventService, startEventService } from '@ticket/event/service';
import {
  createSandboxClient,
  loadPaymentSandboxConfig,
  type RunningPaymentSandbox,
  type SandboxClient,
  startPaymentSandbox,
} from '@ticket/payment-sandbox';
import {
  createKafka,
  createLogger,
  createServiceClient,
  createServiceTokenSource,
  type Kafka,
  Role,
  type ServiceClient,
} from '@ticket/platform';
import {
  createServiceTestDatabase,
  freePort,
  readMessages,
  type ServiceTestDatabase,
  testCallers,
  testKafkaBrokers,
} from '@ticket/platform/testing';
import type { Metadata } from 'nice-grpc';
import postgres from 'postgres';
import { loadCheckoutConfig } from '../src/config.ts';
import {
  CHECKOUT_MIGRATIONS,
  CHECKOUT_SCHEMA,
  type RunningCheckoutService,
  startCheckoutService,
} from '../src/service.ts';

export const logger = createLogger({ name: 'checkout-test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export interface HarnessOptions {
  /** Overrides of checkout's configuration. */
  checkout?: Record<string, string>;
  /** Overrides of booking's configuration (e.g. HOLD_TTL_SECONDS). */
  booking?: Record<string, string>;
  /** Kafka for all three services; the test run's broker by default. */
  brokers?: string[];
}

/** The sandbox PSP the harness runs for checkout, with the merchant's client and keys. */
export interface HarnessPsp {
  sandbox: RunningPaymentSandbox;
  /** The merchant's API client (pay, refund, redeliver, outage switch). */
  client: SandboxClient;
  apiKey: string;
  webhookSecret: string;
  /** Checkout's webhook endpoint, where the sandbox delivers. */
  webhookUrl: string;
  /** Starts the sandbox again on the same port and state after `sandbox.stop()`. */
  restart(): Promise<void>;
}

export interface TicketTypeSpec {
  name: string;
  priceMinor: number;
  currency?: string;
  seats: number;
}

export interface CheckoutHarness {
  /** `url` is the superuser's; each service connects as its own role (`roleUrl(CHECKOUT_SCHEMA)` …). */
  database: ServiceTestDatabase;
  /** Direct SQL on the shared test database (as superuser, across the schemas), to check invariants behind the APIs. */
  sql: postgres.Sql;
  /** AUTH_JWT_SECRET of every service: users' development tokens. */
  secret: string;
  /** SERVICE_AUTH_SECRET of every service: their tokens to one another (booking accepts only those). */
  serviceSecret: string;
  orderTopic: string;
  bookingTopic: string;
  kafka: Kafka;
  booking: RunningBookingService;
  event: RunningEventService;
  checkouts: RunningCheckoutService[];
  checkout: ServiceClient<typeof CheckoutServiceDefinition>['client'];
  checkoutClients: ServiceClient<typeof CheckoutServiceDefinition>['client'][];
  bookings: ServiceClient<typeof BookingServiceDefinition>['client'];
  events: ServiceClient<typeof EventServiceDefinition>['client'];
  psp: HarnessPsp;
  /** Call options authenticating as `userId` with `roles` (none: a buyer), a signed Bearer JWT. */
  as(userId: string, roles?: readonly Role[]): Promise<{ metadata: Metadata }>;
  /** Call options of the box office: an admin, who may act for any user (MarkOrderAsPaid is theirs). */
  asAdmin(): Promise<{ metadata: Metadata }>;
  /**
   * A new event with these ticket types, through the real event service (which creates their stocks in booking),
   * created by the user `organizer`; `refundableUntil` lets buyers refund until then.
   */
  createEvent(ticketTypes: readonly TicketTypeSpec[], options?: { refundableUntil?: Date }): Promise<Event>;
  /** Another checkout replica on the same database and topics. */
  addCheckoutReplica(): Promise<ServiceClient<typeof CheckoutServiceDefinition>['client']>;
  /** The order events on the order topic, decoded, once `count` have arrived. */
  readOrderEvents(count: number, timeoutMs?: number): Promise<Array<{ key: string | undefined; event: OrderEvent }>>;
  /** The events of one order as they reached Kafka, in topic order (waits until every outbox row is on the topic). */
  orderEventsOf(orderId: string): Promise<OrderEvent[]>;
  close(): Promise<void>;
}

/**
 * Real booking, event and checkout services in-process on one fresh database (each in its own schema) and fresh
 * topics, talking gRPC to each other on free ports, with real gRPC clients for the test.
 */
export async function startCheckoutHarness(options: HarnessOptions = {}): Promise<CheckoutHarness> {
  // One database, as in production: each service in its own schema, connected as its own role.
  const database = await createServiceTestDatabase('checkout', [
    { schema: BOOKING_SCHEMA, migrationsFolder: BOOKING_MIGRATIONS },
    { schema: EVENT_SCHEMA, migrationsFolder: EVENT_MIGRATIONS },
    { schema: CHECKOUT_SCHEMA, migrationsFolder: CHECKOUT_MIGRATIONS },
  ]);
  const brokers = options.brokers ?? testKafkaBrokers();
  const bookingTopic = `test.bookings-expired.${database.name}`;
  const orderTopic = `test.order-events.${database.name}`;
  const secret = randomBytes(32).toString('base64url');
  const serviceSecret = randomBytes(32).toString('base64url');
  const common = {
    // The same keys for all three services, as `make up` provisions them.
    AUTH_JWT_SECRET: secret,
    SERVICE_AUTH_SECRET: serviceSecret,
    KAFKA_BROKERS: brokers.join(','),
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    DATABASE_POOL_SIZE: '5',
  };

  const booking = await startBookingService(
    loadBookingConfig({
      ...common,
      DATABASE_URL: database.roleUrl(BOOKING_SCHEMA),
      BOOKING_EVENTS_TOPIC: bookingTopic,
      KAFKA_TOPIC_PARTITIONS: '1',
      // The sweep runs when a test says so (daily: node-cron cannot wait past a timer's 24.8-day limit).
      EXPIRY_SCHEDULE: '0 0 3 * * *',
      ...options.booking,
    }),
    logger,
  );
  const bookingAddr = `127.0.0.1:${booking.port}`;
  const event = await startEventService(
    loadEventConfig({ ...common, DATABASE_URL: database.roleUrl(EVENT_SCHEMA), BOOKING_ADDR: bookingAddr }),
    logger,
  );

  const psp = await startHarnessPsp(await freePort());

  const checkoutConfig = loadCheckoutConfig({
    ...common,
    PAYMENT_PROVIDER: 'sandbox',
    PAYMENT_SANDBOX_URL: psp.sandbox.url,
    PAYMENT_SANDBOX_API_KEY: psp.apiKey,
    PAYMENT_SANDBOX_WEBHOOK_SECRET: psp.webhookSecret,
    PAYMENT_WEBHOOK_HOST: '127.0.0.1',
    PAYMENT_WEBHOOK_PORT: new URL(psp.webhookUrl).port,
    // Retried when a test says so, or at once after a failure (the job's own schedule is for production).
    REFUND_RETRY_SCHEDULE: '0 0 3 * * *',
    DATABASE_URL: database.roleUrl(CHECKOUT_SCHEMA),
    DATABASE_POOL_SIZE: '10',
    EVENT_ADDR: `127.0.0.1:${event.port}`,
    BOOKING_ADDR: bookingAddr,
    // Generous: the race tests run hundreds of calls at once on a 2-core machine shared with other test files.
    EVENT_DEADLINE_MS: '20000',
    BOOKING_DEADLINE_MS: '20000',
    ORDER_EVENTS_TOPIC: orderTopic,
    BOOKING_EVENTS_TOPIC: bookingTopic,
    BOOKING_EVENTS_GROUP: `checkout.${database.name}`,
    BOOKING_EVENTS_DLQ_TOPIC: `${bookingTopic}.dlq`,
    KAFKA_TOPIC_PARTITIONS: '1',
    EXPIRY_CHECK_SCHEDULE: '0 0 3 * * *',
    EXPIRY_CHECK_GRACE_SECONDS: '0',
    ...options.checkout,
  });

  const checkouts: RunningCheckoutService[] = [];
  const closers: Array<() => void> = [];
  const checkoutClients: CheckoutHarness['checkoutClients'] = [];
  async function addCheckoutReplica() {
    // The first replica receives the webhooks; the others listen on any free port.
    const config = checkouts.length === 0 ? checkoutConfig : { ...checkoutConfig, PAYMENT_WEBHOOK_PORT: 0 };
    const service = await startCheckoutService(config, logger);
    checkouts.push(service);
    const { client, close } = createServiceClient(CheckoutServiceDefinition, `127.0.0.1:${service.port}`, {
      deadlineMs: 30_000,
    });
    closers.push(close);
    checkoutClients.push(client);
    return client;
  }
  const checkout = await addCheckoutReplica();
  // The test reaches booking as checkout does: booking answers only the other services.
  const bookingClient = createServiceClient(BookingServiceDefinition, bookingAddr, {
    deadlineMs: 20_000,
    credentials: createServiceTokenSource({ secret: serviceSecret, service: 'checkout', audience: 'booking' }),
  });
  const eventClient = createServiceClient(EventServiceDefinition, `127.0.0.1:${event.port}`, { deadlineMs: 20_000 });
  closers.push(bookingClient.close, eventClient.close);
  const kafka = createKafka({ clientId: 'checkout-test', brokers, logger });
  const sql = postgres(database.url, { max: 4, onnotice: () => {} });
  const callers = testCallers(secret);
  // Signed once per caller: the race tests ask for the same caller hundreds of times.
  const tokens = new Map<string, Promise<{ metadata: Metadata }>>();
  function as(userId: string, roles: readonly Role[] = []) {
    const key = JSON.stringify([userId, ...roles]);
    let options = tokens.get(key);
    if (options === undefined) {
      options = callers.as(userId, roles);
      tokens.set(key, options);
    }
    return options;
  }
  async function readOrderEvents(count: number, timeoutMs = 30_000) {
    const messages = await untilTopicExists(() => readMessages(kafka, orderTopic, count, timeoutMs));
    return messages.map((message) => ({
      key: message.key,
      event: OrderEvent.decode(message.value ?? new Uint8Array()),
    }));
  }

  return {
    database,
    sql,
    secret,
    serviceSecret,
    orderTopic,
    bookingTopic,
    kafka,
    booking,
    event,
    checkouts,
    checkout,
    checkoutClients,
    bookings: bookingClient.client,
    events: eventClient.client,
    psp,
    addCheckoutReplica,
    as,
    asAdmin: () => as('box-office', [Role.admin]),
    async createEvent(ticketTypes, { refundableUntil } = {}) {
      const startsAt = new Date(Date.now() + 86_400_000);
      const { event: created } = await eventClient.client.createEvent(
        {
          idempotencyKey: randomUUID(),
          name: `Concert ${randomUUID().slice(0, 8)}`,
          description: 'checkout test',
          startsAt,
          endsAt: new Date(startsAt.getTime() + 3_600_000),
          ticketTypes: ticketTypes.map((spec) => ({
            name: spec.name,
            price: { amountMinor: spec.priceMinor, currency: spec.currency ?? 'EUR' },
            seats: spec.seats,
          })),
          refundableUntil,
        },
        await as('organizer', [Role.organizer]),
      );
      if (!created) throw new Error('CreateEvent answered without an event');
      return created;
    },
    readOrderEvents,
    async orderEventsOf(orderId) {
      const [row] = await sql<{ n: number }[]>`select count(*)::int as n from checkout.outbox`;
      const all = await readOrderEvents(row?.n ?? 0);
      return all.filter((message) => message.key === orderId).map((message) => message.event);
    },
    async close() {
      for (const close of closers) close();
      for (const service of checkouts) await service.stop();
      await psp.sandbox.stop();
      await rm(dirname(psp.sandbox.stateFile), { recursive: true, force: true });
      await event.stop();
      await booking.stop();
      await sql.end();
      await database.drop();
    },
  };
}

/** A sandbox PSP in-process, its state in a fresh folder, delivering webhooks to checkout's `webhookPort`. */
async function startHarnessPsp(webhookPort: number): Promise<HarnessPsp> {
  const apiKey = randomBytes(24).toString('hex');
  const webhookSecret = randomBytes(24).toString('hex');
  const webhookUrl = `http://127.0.0.1:${webhookPort}/webhooks/sandbox`;
  const stateDir = await mkdtemp(join(tmpdir(), 'checkout-psp-'));
  const config = (port: number) =>
    loadPaymentSandboxConfig({
      PAYMENT_SANDBOX_PORT: String(port),
      PAYMENT_SANDBOX_STATE_FILE: join(stateDir, 'state.json'),
      PAYMENT_SANDBOX_API_KEY: apiKey,
      PAYMENT_SANDBOX_WEBHOOK_SECRET: webhookSecret,
      PAYMENT_SANDBOX_WEBHOOK_URL: webhookUrl,
      PAYMENT_SANDBOX_WEBHOOK_BACKOFF_MS: '50',
      PAYMENT_SANDBOX_WEBHOOK_BACKOFF_MAX_MS: '1000',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    });
  const sandbox = await startPaymentSandbox(config(0), { logger });
  const psp: HarnessPsp = {
    sandbox,
    client: createSandboxClient({ baseUrl: sandbox.url, apiKey }),
    apiKey,
    webhookSecret,
    webhookUrl,
    async restart() {
      psp.sandbox = await startPaymentSandbox(config(psp.sandbox.port), { logger });
    },
  };
  return psp;
}

/**
 * Runs `read`, again while the broker does not know the topic yet (the service creates its topics in the
 * background, and a fresh broker on a loaded machine can take a moment to host them).
 */
async function untilTopicExists<T>(read: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await read();
    } catch (error) {
      const unknownTopic = (error as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION';
      if (!unknownTopic || Date.now() > deadline) throw error;
      await sleep(250);
    }
  }
}

/**
 * The stock row of a ticket type and what its bookings add up to: live holds plus sold seats not returned by a
 * refund must always equal seats_booked.
 */
export async function stockLedger(sql: postgres.Sql, ticketTypeId: string) {
  const [row] = await sql<
    { seats_total: number; seats_booked: number; held: number; sold: number; returned: number }[]
  >`
    select s.seats_total, s.seats_booked,
      coalesce((select sum(b.seats) from booking.bookings b where b.stock_id = s.id and b.status = 'HELD'), 0)::int
        as held,
      coalesce((select sum(b.seats - b.seats_returned) from booking.bookings b
                where b.stock_id = s.id and b.status = 'SOLD'), 0)::int as sold,
      coalesce((select sum(b.seats_returned) from booking.bookings b where b.stock_id = s.id), 0)::int as returned
    from booking.stocks s where s.ticket_type_id = ${ticketTypeId}`;
  if (!row) throw new Error(`no stock for ticket type ${ticketTypeId}`);
  return { total: row.seats_total, booked: row.seats_booked, held: row.held, sold: row.sold, returned: row.returned };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export { callOutcome as outcome, callStatus as statusOf } from '@ticket/platform/testing';
