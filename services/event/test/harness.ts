import { setTimeout as sleep } from 'node:timers/promises';
import { loadBookingConfig } from '@ticket/booking/config';
import { BOOKING_MIGRATIONS, BOOKING_SCHEMA, startBookingService } from '@ticket/booking/service';
import { type CreateEventRequest, EventServiceDefinition } from '@ticket/contracts/v1/event/event_service';
import { createLogger, createServiceClient, type ServiceClient } from '@ticket/platform';
import {
  createServiceTestDatabase,
  type ServiceTestDatabase,
  type TestToken,
  type TestUser,
  testKafkaBrokers,
  testTokens,
} from '@ticket/platform/testing';
import postgres from 'postgres';
import { loadEventConfig } from '../src/config.ts';
import { EVENT_MIGRATIONS, EVENT_SCHEMA, type RunningEventService, startEventService } from '../src/service.ts';

export const logger = createLogger({ name: 'event-test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** The key users' development tokens are signed with (AUTH_JWT_SECRET), as ticketctl signs them. */
export const AUTH_JWT_SECRET = 'event-tests-users-token-secret-at-least-32-chars';
/** The key event signs its tokens to booking with, and booking checks them with. */
export const SERVICE_AUTH_SECRET = 'event-tests-services-token-secret-at-least-32-chars';

type RunningBookingService = Awaited<ReturnType<typeof startBookingService>>;

/** A real booking service on its own database, which a test can stop and start again on the same port. */
export interface BookingUnderTest {
  /** Direct SQL on booking's database (as superuser): what stocks really exist, and test triggers that make booking fail. */
  sql: postgres.Sql;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

async function startBooking(): Promise<BookingUnderTest> {
  const database = await createServiceTestDatabase('event_booking', [
    { schema: BOOKING_SCHEMA, migrationsFolder: BOOKING_MIGRATIONS },
  ]);
  const config = loadBookingConfig({
    DATABASE_URL: database.roleUrl(BOOKING_SCHEMA),
    KAFKA_BROKERS: testKafkaBrokers().join(','),
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    BOOKING_EVENTS_TOPIC: `test.bookings-expired.${database.name}`,
    EXPIRY_SCHEDULE: '0 0 3 * * *',
    DATABASE_POOL_SIZE: '5',
    SERVICE_AUTH_SECRET,
  });
  let running: RunningBookingService | undefined = await startBookingService(config, logger);
  const port = running.port;
  const sql = postgres(database.url, { max: 2, onnotice: () => {} });
  const stop = async () => {
    await running?.stop();
    running = undefined;
  };
  return {
    sql,
    port,
    stop,
    async start() {
      // The same port, so the event service's channel finds it again.
      running ??= await startBookingService({ ...config, GRPC_PORT: port }, logger);
    },
    async close() {
      await stop();
      await sql.end();
      await database.drop();
    },
  };
}

export interface EventHarness {
  booking: BookingUnderTest;
  service: RunningEventService;
  /** Calls as `tokens.organizer` (every call carries that token): creates what the tests read. */
  client: EventClient;
  /** Sends no token of its own: a test passes one per call (`tokens.buyer.call`, `bearer(…)`), or none. */
  anonymous: EventClient;
  /** A token and call options per test user: buyer, otherBuyer, organizer, otherOrganizer, scanner, admin. */
  tokens: Record<TestUser, TestToken>;
  /** Direct SQL on the event service's database (as superuser). */
  sql: postgres.Sql;
  close(): Promise<void>;
}

type EventClient = ServiceClient<typeof EventServiceDefinition>['client'];

/**
 * A real event service on a fresh database, wired to a real booking service on another fresh database (which
 * admits event by its service token), with real gRPC clients that do not retry (tests see each answer as it is).
 * The cleanup job runs only when a test calls it (daily schedule), unless `env` says otherwise.
 */
export async function startEventHarness(env: Record<string, string> = {}): Promise<EventHarness> {
  const booking = await startBooking();
  const database: ServiceTestDatabase = await createServiceTestDatabase('event', [
    { schema: EVENT_SCHEMA, migrationsFolder: EVENT_MIGRATIONS },
  ]);
  const config = loadEventConfig({
    DATABASE_URL: database.roleUrl(EVENT_SCHEMA),
    KAFKA_BROKERS: testKafkaBrokers().join(','),
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    BOOKING_ADDR: `127.0.0.1:${booking.port}`,
    BOOKING_DEADLINE_MS: '2000',
    PENDING_EVENT_TIMEOUT_SECONDS: '60',
    CLEANUP_SCHEDULE: '0 0 3 * * *',
    DATABASE_POOL_SIZE: '5',
    AUTH_JWT_SECRET,
    SERVICE_AUTH_SECRET,
    ...env,
  });
  const service = await startEventService(config, logger);
  const tokens = await testTokens(AUTH_JWT_SECRET);
  const clientOptions = { deadlineMs: 30_000, retries: 0 };
  const address = `127.0.0.1:${service.port}`;
  const organizer = tokens.organizer.token;
  const eventClient = createServiceClient(EventServiceDefinition, address, {
    ...clientOptions,
    credentials: async () => organizer,
  });
  const anonymousClient = createServiceClient(EventServiceDefinition, address, clientOptions);
  const sql = postgres(database.url, { max: 2, onnotice: () => {} });
  return {
    booking,
    service,
    client: eventClient.client,
    anonymous: anonymousClient.client,
    tokens,
    sql,
    async close() {
      eventClient.close();
      anonymousClient.close();
      await service.stop();
      await sql.end();
      await database.drop();
      await booking.close();
    },
  };
}

/**
 * grpc-js waits up to its reconnect backoff (the event service caps it at 2 s, ±20 % jitter) before it dials a
 * restarted booking again; calls in between fail fast with UNAVAILABLE. Waiting that long after a restart makes
 * the next call's outcome depend on booking, not on where the backoff timer stands.
 */
export const waitForBookingReconnect = () => sleep(2_600);

let keys = 0;
/** A valid CreateEventRequest with a fresh idempotency key; `overrides` replace whole fields. */
export function eventRequest(overrides: Partial<CreateEventRequest> = {}): CreateEventRequest {
  keys += 1;
  return {
    idempotencyKey: `test-${Date.now().toString(36)}-${keys}-${Math.random().toString(36).slice(2)}`,
    name: 'Concert',
    description: 'An evening of music',
    startsAt: new Date('2031-06-01T19:00:00Z'),
    endsAt: new Date('2031-06-01T23:00:00Z'),
    locationId: undefined,
    refundableUntil: undefined,
    ticketTypes: [
      { name: 'Standing', price: { amountMinor: 4_500, currency: 'EUR' }, seats: 200 },
      { name: 'VIP', price: { amountMinor: 12_000, currency: 'EUR' }, seats: 20 },
    ],
    ...overrides,
  };
}

/** Stocks in booking's database, by (event, ticket type). */
export async function bookingStocks(booking: BookingUnderTest, eventIds?: readonly string[]) {
  const rows = await booking.sql<{ event_id: string; ticket_type_id: string; seats_total: number }[]>`
    select event_id, ticket_type_id, seats_total from booking.stocks
    ${eventIds ? booking.sql`where event_id = any(${eventIds}::uuid[])` : booking.sql``}
    order by event_id, ticket_type_id`;
  return rows.map((row) => ({ eventId: row.event_id, ticketTypeId: row.ticket_type_id, seats: row.seats_total }));
}

/**
 * The consistency the saga promises, across both databases: the stocks in booking are exactly those of the ticket
 * types of ACTIVE events (no visible event without its stocks, no stock without a visible event), and no event is
 * left unfinished. Only meaningful when no CreateEvent or cleanup is running.
 */
export async function expectConsistent(harness: EventHarness): Promise<{ stocks: number; unfinished: number }> {
  const ticketTypes = await harness.sql<{ event_id: string; id: string; seats: number }[]>`
    select t.event_id, t.id, t.seats from event.ticket_types t join event.events e on e.id = t.event_id
    where e.status = 'ACTIVE' order by t.event_id, t.id`;
  const [unfinished] = await harness.sql<{ n: number }[]>`
    select count(*)::int as n from event.events where status <> 'ACTIVE'`;
  const expected = ticketTypes.map((row) => ({ eventId: row.event_id, ticketTypeId: row.id, seats: row.seats }));
  const actual = await bookingStocks(harness.booking);
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`booking's stocks differ from the ACTIVE events' ticket types:
  in booking only: ${JSON.stringify(actual.filter((a) => !expected.some((e) => e.ticketTypeId === a.ticketTypeId)))}
  in event only: ${JSON.stringify(expected.filter((e) => !actual.some((a) => a.ticketTypeId === e.ticketTypeId)))}`);
  }
  return { stocks: actual.length, unfinished: unfinished?.n ?? -1 };
}

/** Polls until `check` is true; fails after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export { callError, callStatus as statusOf } from '@ticket/platform/testing';
