import { randomBytes, randomUUID } from 'node:crypto';
import type { DescMessage } from '@bufbuild/protobuf';
import { BookingServiceDefinition } from '@ticket/contracts/v1/booking/booking_service';
import { CheckoutServiceDefinition } from '@ticket/contracts/v1/checkout/checkout_service';
import { EventServiceDefinition } from '@ticket/contracts/v1/event/event_service';
import { NotificationServiceDefinition } from '@ticket/contracts/v1/notification/notification_service';
import { loadNotificationConfig } from '@ticket/notification/config';
import {
  NOTIFICATION_MIGRATIONS,
  NOTIFICATION_SCHEMA,
  type RunningNotificationService,
  startNotificationService,
} from '@ticket/notification/service';
import {
  createServiceClient,
  createServiceTokenSource,
  ensureTopics,
  Role,
  type ServiceClient,
} from '@ticket/platform';
import {
  createServiceTestDatabase,
  type ServiceTestDatabase,
  testCallers,
  testKafkaBrokers,
} from '@ticket/platform/testing';
import fc from 'fast-check';
import { ClientError, Status } from 'nice-grpc-common';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FuzzRequest, knownStrings, registry, requestArbitrary, requestBytes } from './fuzz-requests.ts';
import { type CheckoutHarness, logger, startCheckoutHarness } from './harness.ts';

// Every RPC of every service, called with generated requests through a real client against the four services
// running together: well-typed random values (extremes of each number type, invalid UTF-8, U+FFFD, empty and huge
// strings, ids the system knows) and byte mutations of such messages. After each call: no UNKNOWN or INTERNAL, no
// call over its deadline, every service still SERVING, the seat ledger and the paid orders intact.
//
// FUZZ_RUNS calls per RPC (CI: a small default; `make fuzz` runs many), FUZZ_SEED to replay a failure.

const RUNS = Number(process.env.FUZZ_RUNS ?? 30);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const DEADLINE_MS = Number(process.env.FUZZ_DEADLINE_MS ?? 5_000);

/** RPCs whose property is skipped, each with the finding that still fails it (empty when everything passes). */
const SKIPPED: ReadonlyMap<string, string> = new Map([
  // None now. It found: CreateEvent with location_id = 0xff (bytes 32 01 ff, not UTF-8) answered INTERNAL, from the
  // Timestamp check's strict re-decoding (fixed in request-decoding.ts; event's undecodable-requests test keeps it).
]);

const DEFINITIONS = [
  EventServiceDefinition,
  BookingServiceDefinition,
  CheckoutServiceDefinition,
  NotificationServiceDefinition,
] as const;
type Definition = (typeof DEFINITIONS)[number];

/** The RPCs as the generated definitions list them, so a new RPC (or service here) is fuzzed without an edit. */
const RPCS = DEFINITIONS.flatMap((definition) =>
  Object.entries(definition.methods).map(([key, method]) => ({
    definition,
    key,
    method: method as { name: string; requestStream: boolean; responseStream: boolean },
    title: `${definition.name}/${method.name}`,
  })),
);

const identity = (bytes: Uint8Array): Uint8Array => bytes;
function rawMethod(path: string) {
  return {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
    options: {},
  } as const;
}
type RawDefinition = Record<string, ReturnType<typeof rawMethod>>;

/** The service's RPCs with serializers that pass bytes through: the server decodes exactly what the test sends. */
function rawDefinition(definition: Definition): RawDefinition {
  return Object.fromEntries(
    Object.entries(definition.methods).map(([key, method]) => [
      key,
      rawMethod(`/${definition.fullName}/${method.name}`),
    ]),
  );
}

type RawClient = ServiceClient<RawDefinition>;

let harness: CheckoutHarness;
let notificationDatabase: ServiceTestDatabase;
let notification: RunningNotificationService;
const clients: RawClient[] = [];
const ports = new Map<Definition, number>();
/** Per service, the call credentials that may reach its handlers: the admin for users' RPCs, the services for booking's. */
const credentials = new Map<Definition, Array<{ who: string; token: () => Promise<string> }>>();
/** Ids, user ids and page tokens the system has handed out, reused by later requests. */
const known = new Set<string>();

beforeAll(async () => {
  harness = await startCheckoutHarness();
  // Notification consumes the order events checkout publishes, on a database of its own.
  notificationDatabase = await createServiceTestDatabase('notification-fuzz', [
    { schema: NOTIFICATION_SCHEMA, migrationsFolder: NOTIFICATION_MIGRATIONS },
  ]);
  await ensureTopics(harness.kafka, [{ topic: harness.orderTopic }, { topic: `${harness.orderTopic}.dlq` }]);
  notification = await startNotificationService(
    loadNotificationConfig({
      DATABASE_URL: notificationDatabase.roleUrl(NOTIFICATION_SCHEMA),
      DATABASE_POOL_SIZE: '5',
      KAFKA_BROKERS: testKafkaBrokers().join(','),
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: '0',
      ORDER_EVENTS_TOPIC: harness.orderTopic,
      ORDER_EVENTS_DLQ_TOPIC: `${harness.orderTopic}.dlq`,
      KAFKA_GROUP_ID: `notification-fuzz-${randomBytes(4).toString('hex')}`,
      AUTH_JWT_SECRET: harness.secret,
      NOTIFICATION_CHANNEL: 'log',
      NOTIFY_POLL_INTERVAL_MS: '200',
      HEALTH_CHECK_INTERVAL_MS: '500',
    }),
    logger,
  );
  ports.set(EventServiceDefinition, harness.event.port);
  ports.set(BookingServiceDefinition, harness.booking.port);
  ports.set(CheckoutServiceDefinition, harness.checkouts[0]?.port ?? 0);
  ports.set(NotificationServiceDefinition, notification.port);

  const admin = testCallers(harness.secret).token('box-office', [Role.admin]);
  const asAdmin = [{ who: 'admin', token: () => admin }];
  const asService = (service: string) => ({
    who: `service ${service}`,
    token: createServiceTokenSource({ secret: harness.serviceSecret, service, audience: 'booking' }),
  });
  credentials.set(EventServiceDefinition, asAdmin);
  credentials.set(CheckoutServiceDefinition, asAdmin);
  credentials.set(NotificationServiceDefinition, asAdmin);
  credentials.set(BookingServiceDefinition, [asService('event'), asService('checkout')]);

  await seedKnownStrings();
  // Notification reports SERVING once its consumer has joined the group: fuzz only a system that is up.
  await vi.waitFor(async () => expect(await notServing()).toEqual([]), { timeout: 60_000, interval: 200 });
});

afterAll(async () => {
  for (const client of clients) client.close();
  await notification?.stop();
  await notificationDatabase?.drop();
  await harness?.close();
});

/** An event with two ticket types, an order placed and an order paid: ids for the generated requests to hit. */
async function seedKnownStrings(): Promise<void> {
  const event = await harness.createEvent([
    { name: 'Standing', priceMinor: 1250, seats: 6 },
    { name: 'Seated', priceMinor: 4000, seats: 3 },
  ]);
  const admin = await harness.asAdmin();
  for (const value of [event.id, event.location?.id ?? '', 'box-office', 'organizer', 'buyer-1', randomUUID()])
    known.add(value);
  for (const type of event.ticketTypes) known.add(type.id);
  const [ticketType] = event.ticketTypes;
  if (!ticketType) throw new Error('the seeded event has no ticket types');
  for (const paid of [false, true]) {
    await harness.checkout.addToCart({ userId: 'box-office', ticketTypeId: ticketType.id, quantity: 1 }, admin);
    const { order } = await harness.checkout.placeOrder(
      { userId: 'box-office', idempotencyKey: randomUUID(), email: 'buyer@example.com' },
      admin,
    );
    if (!order) throw new Error('PlaceOrder answered without an order');
    known.add(order.id);
    if (paid) {
      await harness.checkout.markOrderAsPaid(
        { userId: 'box-office', orderId: order.id, paymentReference: `pay-${order.id}`, idempotencyKey: randomUUID() },
        admin,
      );
    }
  }
  known.delete('');
}

function rawClient(definition: Definition, token?: () => Promise<string>): RawClient {
  const client = createServiceClient(rawDefinition(definition), `127.0.0.1:${ports.get(definition)}`, {
    deadlineMs: DEADLINE_MS,
    retries: 0,
    ...(token === undefined ? {} : { credentials: token }),
  });
  clients.push(client);
  return client;
}

/** How a raw call ended: 'OK' with the response's bytes, or the status and message. */
async function call(client: RawClient, key: string, bytes: Uint8Array) {
  const method = client.client[key];
  if (!method) throw new Error(`no method ${key}`);
  try {
    return { outcome: 'OK', response: (await method(bytes)) as Uint8Array };
  } catch (error) {
    if (error instanceof ClientError) return { outcome: `${Status[error.code]}: ${error.details}`, code: error.code };
    throw error;
  }
}

/** The credentials among the service's that reach this RPC's handler (not refused as unauthenticated or forbidden). */
async function callerFor(definition: Definition, key: string): Promise<RawClient> {
  const candidates = credentials.get(definition) ?? [];
  for (const candidate of candidates) {
    const client = rawClient(definition, candidate.token);
    const { code } = await call(client, key, new Uint8Array());
    if (code !== Status.PERMISSION_DENIED && code !== Status.UNAUTHENTICATED) return client;
  }
  throw new Error(`none of ${candidates.map((c) => c.who).join(', ')} may call ${definition.name}.${key}`);
}

// grpc.health.v1.Health/Check for the whole server (an empty HealthCheckRequest); SERVING is `08 01`.
const HealthRaw = { check: rawMethod('/grpc.health.v1.Health/Check') };
const healthClients = new Map<Definition, ServiceClient<typeof HealthRaw>>();

async function notServing(): Promise<string[]> {
  const problems: string[] = [];
  for (const definition of DEFINITIONS) {
    let client = healthClients.get(definition);
    if (!client) {
      client = createServiceClient(HealthRaw, `127.0.0.1:${ports.get(definition)}`, { deadlineMs: 2_000, retries: 0 });
      healthClients.set(definition, client);
      clients.push(client as unknown as RawClient);
    }
    try {
      const response = await client.client.check(new Uint8Array());
      if (Buffer.from(response).toString('hex') !== '0801')
        problems.push(`${definition.name}: health ${Buffer.from(response).toString('hex')}`);
    } catch (error) {
      problems.push(`${definition.name}: health check failed: ${(error as Error).message}`);
    }
  }
  return problems;
}

/**
 * What breaks the invariants: a stock whose seats_booked is not its live holds plus sold seats not returned, or is
 * outside 0..seats_total; an order PAID whose items' bookings are not all SOLD.
 */
async function brokenInvariants(): Promise<string[]> {
  const stocks = await harness.sql<
    { id: string; seats_total: number; seats_booked: number; held: number; sold: number }[]
  >`
    select * from (
      select s.id, s.seats_total, s.seats_booked,
        coalesce((select sum(b.seats) from booking.bookings b where b.stock_id = s.id and b.status = 'HELD'), 0)::int
          as held,
        coalesce((select sum(b.seats - b.seats_returned) from booking.bookings b
                  where b.stock_id = s.id and b.status = 'SOLD'), 0)::int as sold
      from booking.stocks s
    ) ledger
    where seats_booked <> held + sold or seats_booked < 0 or seats_booked > seats_total`;
  const orders = await harness.sql<{ order_id: string; ticket_type_id: string; booking_status: string | null }[]>`
    select o.id as order_id, i.ticket_type_id, b.status as booking_status
    from checkout.orders o
    join checkout.order_items i on i.order_id = o.id
    left join booking.bookings b on b.id = i.booking_id
    where o.status = 'PAID' and b.status is distinct from 'SOLD'`;
  return [
    ...stocks.map(
      (s) => `stock ${s.id}: seats_booked ${s.seats_booked}, held ${s.held} + sold ${s.sold}, total ${s.seats_total}`,
    ),
    ...orders.map(
      (o) => `PAID order ${o.order_id}: booking of ${o.ticket_type_id} is ${o.booking_status ?? 'missing'}`,
    ),
  ];
}

/** What a failed property names: the request as generated, and its bytes in hex for replaying with any client. */
function describeRequest(input: DescMessage, request: FuzzRequest, bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex');
  return `${input.typeName} ${request.kind}, ${bytes.length} bytes: ${hex.length > 400 ? `${hex.slice(0, 400)}…` : hex}`;
}

describe('fuzzing every RPC', () => {
  it('covers every RPC of the descriptor set', () => {
    const described = DEFINITIONS.flatMap((definition) =>
      (registry.getService(definition.fullName)?.methods ?? []).map((method) => `${definition.name}/${method.name}`),
    );
    expect(RPCS.map((rpc) => rpc.title).sort()).toEqual(described.sort());
  });

  for (const rpc of RPCS) {
    const test = SKIPPED.has(rpc.title) ? it.skip : it;
    test(`${rpc.title} answers generated requests without UNKNOWN, INTERNAL or a timeout`, {
      timeout: 60_000 + RUNS * 2 * DEADLINE_MS,
    }, async () => {
      if (rpc.method.requestStream || rpc.method.responseStream) {
        throw new Error(`${rpc.title} streams: teach the fuzz test to call streaming RPCs`);
      }
      const described = registry.getService(rpc.definition.fullName)?.methods.find((m) => m.name === rpc.method.name);
      if (!described) throw new Error(`${rpc.title} is not in the descriptor set: run make generate`);
      const client = await callerFor(rpc.definition, rpc.key);
      const requests = requestArbitrary(described.input, { known: [...known].sort() });

      await fc.assert(
        fc.asyncProperty(requests, async (request) => {
          const bytes = requestBytes(described.input, request);
          const started = performance.now();
          const { outcome, code, response } = await call(client, rpc.key, bytes);
          const elapsedMs = performance.now() - started;
          const what = () =>
            `${rpc.title} → ${outcome} after ${Math.round(elapsedMs)} ms; ${describeRequest(described.input, request, bytes)}`;
          if (code === Status.UNKNOWN || code === Status.INTERNAL || code === Status.DEADLINE_EXCEEDED) {
            throw new Error(what());
          }
          if (elapsedMs > DEADLINE_MS) throw new Error(`over the ${DEADLINE_MS} ms deadline: ${what()}`);
          if (response) for (const value of knownStrings(described.output, response)) known.add(value);
          const problems = [...(await notServing()), ...(await brokenInvariants())];
          if (problems.length > 0) throw new Error(`after ${what()}:\n${problems.join('\n')}`);
        }),
        { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }), endOnFailure: process.env.FUZZ_SHRINK === '0' },
      );
    });
  }
});
