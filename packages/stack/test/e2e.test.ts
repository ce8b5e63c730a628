import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BookingServiceDefinition } from '@ticket/contracts/v1/booking/booking_service';
import { EventServiceDefinition } from '@ticket/contracts/v1/event/event_service';
import { createServiceClient, serviceRole } from '@ticket/platform';
import {
  asService,
  callStatus,
  createTestDatabase,
  freePort,
  metricSample,
  type TestDatabase,
  testCallers,
  testKafkaBrokers,
  uniqueTopic,
} from '@ticket/platform/testing';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type CaughtMail, readMailbox } from '../src/mailbox.ts';
import { SERVICE_NAMES, type ServiceName } from '../src/services.ts';
import {
  devSecret,
  mailDir,
  metricsUrlOf,
  REPO_ROOT,
  type StackOptions,
  stackDown,
  stackStatus,
  stackUp,
} from '../src/stack.ts';
import { startTestPrometheus } from './prometheus.ts';
import { freeServicePorts } from './service-ports.ts';

const run = promisify(execFile);
// Holds must outlive the ticketctl processes between placing and paying: each takes ~1 s on a quiet 2-core machine,
// but several seconds when test files run beside it (the purchase took 32 s once, and 8 s holds lapsed before the
// payment). The expiry test waits this out, so it is only as long as needed.
const HOLD_TTL_SECONDS = 30;

// The whole system as `make up` runs it: four service processes (plus the mail catcher) started by the
// stack, on a fresh database and the test run's Kafka, driven through the ticketctl command line.
let database: TestDatabase;
let options: StackOptions;
let ports: Record<'event' | 'booking' | 'checkout' | 'notification', number>;
let startupSeconds: number;

beforeAll(async () => {
  database = await createTestDatabase('e2e');
  const stateDir = await mkdtemp(join(tmpdir(), 'ticket-e2e-'));
  ports = await freeServicePorts();
  options = {
    stateDir,
    ports,
    metricsPorts: await freeServicePorts(),
    env: {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: testKafkaBrokers().join(','),
      MAIL_CATCHER_PORT: String(await freePort()),
      PAYMENT_SANDBOX_PORT: String(await freePort()),
      PAYMENT_WEBHOOK_PORT: String(await freePort()),
      AUTH_JWT_SECRET: 'e2e-secret-that-is-at-least-32-characters',
      ORDER_EVENTS_TOPIC: uniqueTopic('e2e-order-events'),
      BOOKING_EVENTS_TOPIC: uniqueTopic('e2e-bookings-expired'),
      HOLD_TTL_SECONDS: String(HOLD_TTL_SECONDS),
      EXPIRY_SCHEDULE: '* * * * * *',
      LOG_LEVEL: 'info',
    },
  };
  const started = Date.now();
  await stackUp(options);
  startupSeconds = (Date.now() - started) / 1000;
});

afterAll(async () => {
  if (options) {
    await stackDown(options);
    await rm(options.stateDir, { recursive: true, force: true });
  }
  await database?.drop();
});

/**
 * Runs `ticketctl --json --user <user> <args>` as a user would, and parses what it prints; `env` adds to the
 * environment ticketctl gets.
 */
// biome-ignore lint/suspicious/noExplicitAny: JSON printed by the CLI; each test checks the fields it reads.
async function ticketctlWith(env: NodeJS.ProcessEnv, user: string, ...args: string[]): Promise<any> {
  const { stdout } = await run(
    process.execPath,
    [join(REPO_ROOT, 'packages/ticketctl/src/main.ts'), '--json', '--user', user, ...args],
    {
      env: {
        ...process.env,
        AUTH_JWT_SECRET: options.env.AUTH_JWT_SECRET,
        EVENT_ADDR: `127.0.0.1:${ports.event}`,
        CHECKOUT_ADDR: `127.0.0.1:${ports.checkout}`,
        NOTIFICATION_ADDR: `127.0.0.1:${ports.notification}`,
        ...env,
      },
    },
  );
  return JSON.parse(stdout);
}

const ticketctl = (user: string, ...args: string[]) => ticketctlWith({}, user, ...args);

/** ticketctl's exit code and error line for a command that must fail. */
async function ticketctlFailure(user: string, ...args: string[]): Promise<{ code: number; stderr: string }> {
  return ticketctlFailureWith({}, user, ...args);
}

async function ticketctlFailureWith(env: NodeJS.ProcessEnv, user: string, ...args: string[]) {
  return ticketctlWith(env, user, ...args).then(
    () => ({ code: 0, stderr: '' }),
    (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
  );
}

async function createEvent(seats: number) {
  const startsAt = new Date(Date.now() + 30 * 24 * 3600_000);
  const { event } = await ticketctl(
    'organiser',
    '--role',
    'organizer',
    'events',
    'create',
    '--name',
    'End to End Live',
    '--starts-at',
    startsAt.toISOString(),
    '--ends-at',
    new Date(startsAt.getTime() + 2 * 3600_000).toISOString(),
    '--ticket',
    `Standing:39.90:EUR:${seats}`,
  );
  return { eventId: event.id as string, ticketTypeId: event.ticketTypes[0].id as string };
}

/** Booking's own count, asked as the checkout service (with the service key the stack provisioned). */
async function seatsBooked(eventId: string, ticketTypeId: string): Promise<number> {
  const booking = createServiceClient(BookingServiceDefinition, `127.0.0.1:${ports.booking}`);
  try {
    const asCheckout = await asService(await devSecret(options, 'SERVICE_AUTH_SECRET'), 'checkout');
    return (await booking.client.getStock({ eventId, ticketTypeId }, asCheckout)).stock?.seatsBooked ?? -1;
  } finally {
    booking.close();
  }
}

async function mailTo(address: string, subject: RegExp): Promise<CaughtMail> {
  let found: CaughtMail | undefined;
  await vi.waitFor(
    async () => {
      found = (await readMailbox(mailDir(options), 100)).find(
        (mail) => mail.to.includes(address) && subject.test(mail.subject),
      );
      expect(found, `an email to ${address} with subject ${subject}`).toBeDefined();
    },
    { timeout: 30_000, interval: 250 },
  );
  return found as CaughtMail;
}

describe('the whole system', () => {
  it('starts every service healthy', async () => {
    const statuses = await stackStatus(options);
    expect(statuses.map((status) => [status.name, status.health])).toEqual([
      ['booking', 'SERVING'],
      ['event', 'SERVING'],
      ['checkout', 'SERVING'],
      ['notification', 'SERVING'],
    ]);
    console.log(`all four services serving ${startupSeconds.toFixed(1)} s after stackUp began`);
  });

  it('sells tickets: event, cart, order, payment, email with the ticket codes', async () => {
    const { eventId, ticketTypeId } = await createEvent(50);
    expect((await ticketctl('alice', 'events', 'get', eventId)).event.name).toBe('End to End Live');

    await ticketctl('alice', 'cart', 'add', ticketTypeId, '2');
    const { cart } = await ticketctl('alice', 'cart', 'show');
    expect(cart.total).toEqual({ amountMinor: 7980, currency: 'EUR' });

    const { order } = await ticketctl('alice', 'orders', 'place', '--email', 'alice@example.com');
    expect(order.status).toBe('ORDER_STATUS_CREATED');
    expect(await seatsBooked(eventId, ticketTypeId)).toBe(2);
    expect((await ticketctl('alice', 'cart', 'show')).cart.items ?? []).toEqual([]);

    // Paid on the sandbox provider's pay page; its signed webhook makes the order PAID.
    expect(order.payment.payUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/pay\/pay_/);
    const paid = await ticketctl('alice', 'orders', 'pay', order.id);
    expect(paid.order.status).toBe('ORDER_STATUS_PAID');
    expect(paid.order.paymentReference).toBe(order.payment.paymentId);
    const codes: string[] = paid.order.tickets.map((ticket: { code: string }) => ticket.code);
    expect(new Set(codes).size).toBe(2);

    const mail = await mailTo('alice@example.com', /tickets/i);
    for (const code of codes) expect(mail.text).toContain(code);
    expect(mail.text).toContain('€79.80');

    const fetched = await ticketctl('alice', 'orders', 'get', order.id);
    expect(fetched.order.tickets.map((ticket: { code: string }) => ticket.code)).toEqual(codes);
    await vi.waitFor(
      async () => {
        const { notifications } = await ticketctl('alice', 'notifications', 'list');
        expect(notifications.map((n: { kind: string; status: string }) => `${n.kind} ${n.status}`)).toEqual([
          'NOTIFICATION_KIND_ORDER_PAID DELIVERY_STATUS_SENT',
          'NOTIFICATION_KIND_ORDER_CREATED DELIVERY_STATUS_SENT',
        ]);
      },
      { timeout: 15_000, interval: 250 },
    );
    expect(await seatsBooked(eventId, ticketTypeId)).toBe(2);
  });

  // After a sale: its calls are in the counters.
  it('serves Prometheus metrics per service: gRPC calls, holds, the outbox, deliveries, Node runtime', async () => {
    const scrape = async (name: ServiceName) => {
      const response = await fetch(metricsUrlOf(options, name));
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return response.text();
    };
    const ok = (grpcService: string, grpcMethod: string) => ({
      grpc_service: grpcService,
      grpc_method: grpcMethod,
      grpc_code: 'OK',
    });
    const checkout = await scrape('checkout');
    expect(
      metricSample(checkout, 'grpc_server_handled_total', ok('ticket.checkout.v1.CheckoutService', 'PlaceOrder')),
    ).toBeGreaterThanOrEqual(1);
    expect(metricSample(checkout, 'grpc_server_handling_seconds_count', { grpc_method: 'PlaceOrder' })).toBeGreaterThan(
      0,
    );
    const booking = await scrape('booking');
    expect(
      metricSample(booking, 'grpc_server_handled_total', ok('ticket.booking.v1.BookingService', 'CreateBooking')),
    ).toBeGreaterThanOrEqual(1);
    expect(metricSample(booking, 'booking_holds_total', { outcome: 'granted' })).toBeGreaterThanOrEqual(1);
    expect(metricSample(booking, 'booking_hold_batch_requests_count')).toBeGreaterThanOrEqual(1);
    // The sale's events went out (its email arrived), so the outbox has published them and waits for nothing older.
    expect(metricSample(checkout, 'outbox_published_events_total')).toBeGreaterThanOrEqual(1);
    expect(metricSample(checkout, 'outbox_unpublished_events')).toBeGreaterThanOrEqual(0);
    const notification = await scrape('notification');
    expect(metricSample(notification, 'notification_deliveries_total', { outcome: 'sent' })).toBeGreaterThanOrEqual(1);
    for (const name of SERVICE_NAMES) {
      expect(metricSample(await scrape(name), 'nodejs_heap_size_used_bytes', { service: name })).toBeGreaterThan(0);
    }
  });

  it('is scraped by a real Prometheus, whose queries see the counters move after calls', async () => {
    const prometheus = await startTestPrometheus(
      SERVICE_NAMES.map((name) => new URL(metricsUrlOf(options, name)).host),
    );
    const events = createServiceClient(EventServiceDefinition, `127.0.0.1:${ports.event}`);
    try {
      await vi.waitFor(async () => expect(await prometheus.query('sum(up{job="ticket"})')).toBe(4), {
        timeout: 30_000,
        interval: 250,
      });
      const listed = 'sum(grpc_server_handled_total{service="event",grpc_method="ListEvents",grpc_code="OK"})';
      const before = (await prometheus.query(listed)) ?? 0;
      for (let call = 0; call < 3; call += 1) await events.client.listEvents({ pageSize: 1 });
      await vi.waitFor(async () => expect(await prometheus.query(listed)).toBeGreaterThanOrEqual(before + 3), {
        timeout: 30_000,
        interval: 250,
      });
    } finally {
      events.close();
      await prometheus.stop();
    }
  });

  // After a sale, so that every service has opened its pool (postgres.js connects on the first query).
  it("connects each service to Postgres as its own role, the owner of the service's schema", async () => {
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      const expected = SERVICE_NAMES.map((name) => `${name} ${serviceRole(name).name}`).sort();
      const sessions = await sql<{ pair: string }[]>`
        select distinct application_name || ' ' || usename as pair from pg_stat_activity
        where datname = ${database.name} and application_name = any(${[...SERVICE_NAMES]}) order by pair`;
      expect(sessions.map((row) => row.pair)).toEqual(expected);
      const owners = await sql<{ pair: string }[]>`
        select nspname || ' ' || pg_get_userbyid(nspowner) as pair from pg_namespace
        where nspname = any(${[...SERVICE_NAMES]}) order by pair`;
      expect(owners.map((row) => row.pair)).toEqual(expected);
    } finally {
      await sql.end();
    }
  });

  it('cancels: the seats go back and the buyer is told', async () => {
    const { eventId, ticketTypeId } = await createEvent(10);
    await ticketctl('bob', 'cart', 'add', ticketTypeId, '3');
    const { order } = await ticketctl('bob', 'orders', 'place', '--email', 'bob@example.com');
    expect(await seatsBooked(eventId, ticketTypeId)).toBe(3);

    const cancelled = await ticketctl('bob', 'orders', 'cancel', order.id);
    expect(cancelled.order.status).toBe('ORDER_STATUS_CANCELLED');
    expect(await seatsBooked(eventId, ticketTypeId)).toBe(0);
    await mailTo('bob@example.com', /cancel/i);

    const boxOffice = await ticketctlFailure('bob', 'orders', 'mark-paid', order.id, '--reference', 'cash-too-late');
    expect(boxOffice.code).toBe(1);
    expect(boxOffice.stderr).toMatch(/FAILED_PRECONDITION/);

    // Paid at the provider anyway: the money goes back by itself, and the buyer is told.
    const late = await ticketctl('bob', 'orders', 'pay', order.id);
    expect(late.order.status).toBe('ORDER_STATUS_CANCELLED');
    await vi.waitFor(
      async () =>
        expect((await ticketctl('bob', 'orders', 'get', order.id)).order.refunds).toMatchObject([
          { reason: 'REFUND_REASON_LATE_PAYMENT', status: 'REFUND_STATUS_SUCCEEDED', amount: { amountMinor: 11970 } },
        ]),
      { timeout: 20_000, interval: 250 },
    );
    await mailTo('bob@example.com', /refunded/i);
    expect(await seatsBooked(eventId, ticketTypeId)).toBe(0);
  });

  it(
    'expires an unpaid order: holds released by booking, order EXPIRED in checkout, buyer told',
    async () => {
      const { eventId, ticketTypeId } = await createEvent(10);
      await ticketctl('carol', 'cart', 'add', ticketTypeId, '1');
      const { order } = await ticketctl('carol', 'orders', 'place', '--email', 'carol@example.com');
      expect(await seatsBooked(eventId, ticketTypeId)).toBe(1);

      await vi.waitFor(
        async () =>
          expect((await ticketctl('carol', 'orders', 'get', order.id)).order.status).toBe('ORDER_STATUS_EXPIRED'),
        { timeout: (HOLD_TTL_SECONDS + 20) * 1000, interval: 500 },
      );
      expect(await seatsBooked(eventId, ticketTypeId)).toBe(0);
      await mailTo('carol@example.com', /expired/i);
    },
    (HOLD_TTL_SECONDS + 60) * 1000,
  );

  it('lets only organizers create events, and only the box office record a payment', async () => {
    const buyer = await ticketctlFailure(
      'erin',
      'events',
      'create',
      '--name',
      'Mine',
      '--starts-at',
      '2030-01-01T19:00:00Z',
      '--ends-at',
      '2030-01-01T22:00:00Z',
      '--ticket',
      'A:1.00:EUR:1',
    );
    expect(buyer.code).toBe(1);
    expect(buyer.stderr).toMatch(/PERMISSION_DENIED: this method needs the role organizer/);

    const { ticketTypeId } = await createEvent(5);
    await ticketctl('erin', 'cart', 'add', ticketTypeId, '1');
    const { order } = await ticketctl('erin', 'orders', 'place', '--email', 'erin@example.com');
    // A buyer who passes their own token off as the box office's.
    const token = (await ticketctl('erin', 'token')).token as string;
    const selfPaid = await ticketctlFailureWith(
      { TICKET_ADMIN_TOKEN: token },
      'erin',
      ...['orders', 'mark-paid', order.id, '--reference', 'free-seats'],
    );
    expect(selfPaid.code).toBe(1);
    expect(selfPaid.stderr).toMatch(/PERMISSION_DENIED: this method needs the role admin/);
    // Not paid (the short test hold may have lapsed meanwhile on a slow machine; either way no tickets).
    const after = (await ticketctl('erin', 'orders', 'get', order.id)).order;
    expect(after.status).not.toBe('ORDER_STATUS_PAID');
    expect(after.tickets ?? []).toEqual([]);
  });

  it('keeps booking closed to everyone but the services', async () => {
    const booking = createServiceClient(BookingServiceDefinition, `127.0.0.1:${ports.booking}`);
    const users = testCallers(options.env.AUTH_JWT_SECRET as string);
    try {
      const sell = (callOptions = {}) =>
        callStatus(booking.client.deleteOrderBookings({ orderId: crypto.randomUUID() }, callOptions));
      expect(await sell()).toBe('UNAUTHENTICATED');
      expect(await sell(await users.as('erin'))).toBe('UNAUTHENTICATED');
      expect(await sell(await users.as('root', ['admin']))).toBe('UNAUTHENTICATED');
      expect(await sell(await asService(await devSecret(options, 'SERVICE_AUTH_SECRET'), 'event'))).toBe(
        'PERMISSION_DENIED',
      );
    } finally {
      booking.close();
    }
  });

  it('answers a bad request with the status and the field', async () => {
    const failure = await ticketctlFailure('dave', 'cart', 'add', 'not-a-ticket-type', '1');
    expect(failure.code).toBe(1);
    expect(failure.stderr).toMatch(/INVALID_ARGUMENT: .*ticket_type_id/);
  });
});
