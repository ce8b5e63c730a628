import { randomUUID } from 'node:crypto';
import { BookingServiceDefinition, type CreateBookingRequest } from '@ticket/contracts/v1/booking/booking_service';
import { createLogger, createServiceClient, createServiceTokenSource, type ServiceClient } from '@ticket/platform';
import { createServiceTestDatabase, type ServiceTestDatabase, testKafkaBrokers } from '@ticket/platform/testing';
import postgres from 'postgres';
import { loadBookingConfig } from '../src/config.ts';
import { BOOKING_MIGRATIONS, BOOKING_SCHEMA, type RunningBookingService, startBookingService } from '../src/service.ts';

export const logger = createLogger({ name: 'booking-test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** The key the services sign their tokens to booking with, in the booking under test. */
export const SERVICE_AUTH_SECRET = 'booking-tests-services-token-secret-at-least-32-chars';

type BookingServiceClient = ServiceClient<typeof BookingServiceDefinition>;
export type BookingClient = BookingServiceClient['client'];

/**
 * A client of the booking service on `port` that calls as `service`, with a service token as that service's own
 * client sends it; with no service, a client that sends no token (a test passes one per call, or none).
 */
export function bookingClientAs(port: number, service: 'event' | 'checkout' | undefined): BookingServiceClient {
  return createServiceClient(BookingServiceDefinition, `127.0.0.1:${port}`, {
    deadlineMs: 20_000,
    ...(service && {
      credentials: createServiceTokenSource({ secret: SERVICE_AUTH_SECRET, service, audience: 'booking' }),
    }),
  });
}

export interface BookingHarness {
  /** `url` is the superuser's; the service connects as its own role (`roleUrl(BOOKING_SCHEMA)`). */
  database: ServiceTestDatabase;
  /** Direct SQL on the service's database (as superuser), for checking invariants behind the API. */
  sql: postgres.Sql;
  topic: string;
  services: RunningBookingService[];
  /** A client per replica calling as checkout, as booking's main caller: holds, sales, releases and reads. */
  clients: BookingServiceClient[];
  /** The first replica called as event, the only caller allowed to create and delete stocks. */
  asEvent: BookingClient;
  /** The first replica called with no token: a test passes one per call (or none). */
  anonymous: BookingClient;
  /** Another replica of the service on the same database; returns its client as checkout. */
  addReplica(): Promise<BookingServiceClient>;
  close(): Promise<void>;
}

/**
 * A real booking service (or several replicas) on its own fresh database and Kafka topic, with real
 * gRPC clients that call as the services do (service tokens). `env` overrides configuration, e.g. a short
 * HOLD_TTL_SECONDS.
 */
export async function startBookingHarness(env: Record<string, string> = {}): Promise<BookingHarness> {
  const database = await createServiceTestDatabase('booking', [
    { schema: BOOKING_SCHEMA, migrationsFolder: BOOKING_MIGRATIONS },
  ]);
  const topic = `test.bookings-expired.${database.name}`;
  const config = loadBookingConfig({
    DATABASE_URL: database.roleUrl(BOOKING_SCHEMA),
    KAFKA_BROKERS: testKafkaBrokers().join(','),
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    BOOKING_EVENTS_TOPIC: topic,
    // The sweep runs when a test says so, unless it asks for a schedule.
    // (daily: node-cron cannot wait longer than a timer's 24.8-day limit).
    EXPIRY_SCHEDULE: '0 0 3 * * *',
    DATABASE_POOL_SIZE: '5',
    SERVICE_AUTH_SECRET,
    ...env,
  });
  const services: RunningBookingService[] = [];
  const clients: BookingServiceClient[] = [];
  async function addReplica() {
    const service = await startBookingService(config, logger);
    const client = bookingClientAs(service.port, 'checkout');
    services.push(service);
    clients.push(client);
    return client;
  }
  await addReplica();
  const firstPort = (services[0] as RunningBookingService).port;
  const asEvent = bookingClientAs(firstPort, 'event');
  const anonymous = bookingClientAs(firstPort, undefined);
  const sql = postgres(database.url, { max: 4, onnotice: () => {} });
  return {
    database,
    sql,
    topic,
    services,
    clients,
    asEvent: asEvent.client,
    anonymous: anonymous.client,
    addReplica,
    async close() {
      for (const client of [...clients, asEvent, anonymous]) client.close();
      await Promise.all(services.map((service) => service.stop()));
      await sql.end();
      await database.drop();
    },
  };
}

/**
 * Stock row and what its bookings add up to: the two must always agree. `liveOrSold` is the seats of live holds
 * plus sold seats, less the sold seats refunds returned (ReturnSoldSeats).
 */
export async function stockLedger(sql: postgres.Sql, stockId: string) {
  const [row] = await sql<{ seats_total: number; seats_booked: number; live_or_sold: number }[]>`
    select s.seats_total, s.seats_booked,
      (coalesce((select sum(b.seats) from booking.bookings b
                 where b.stock_id = s.id and b.status in ('HELD', 'SOLD')), 0)
       - coalesce((select sum(b.seats_returned) from booking.bookings b where b.stock_id = s.id), 0))::int as live_or_sold
    from booking.stocks s where s.id = ${stockId}`;
  if (!row) throw new Error(`no stock ${stockId}`);
  return { total: row.seats_total, booked: row.seats_booked, liveOrSold: row.live_or_sold };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface StockKey {
  eventId: string;
  ticketTypeId: string;
}

export const newStockKey = (): StockKey => ({ eventId: randomUUID(), ticketTypeId: randomUUID() });

/** A CreateBooking request for a fresh order and key, unless told otherwise. */
export const holdRequest = (key: StockKey, overrides: Partial<CreateBookingRequest> = {}): CreateBookingRequest => ({
  ...key,
  orderId: randomUUID(),
  userId: 'user-1',
  seats: 1,
  idempotencyKey: randomUUID(),
  ...overrides,
});

export { callOutcome as errorOf, callStatus as statusOf } from '@ticket/platform/testing';
