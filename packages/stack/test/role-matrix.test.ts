import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BookingServiceDefinition } from '@ticket/contracts/v1/booking/booking_service';
import { CheckoutServiceDefinition } from '@ticket/contracts/v1/checkout/checkout_service';
import { EventServiceDefinition } from '@ticket/contracts/v1/event/event_service';
import { NotificationServiceDefinition } from '@ticket/contracts/v1/notification/notification_service';
import { createServiceClient, createServiceTokenSource, Role } from '@ticket/platform';
import {
  bearer,
  createTestDatabase,
  freePort,
  type IdpKey,
  startTestIdentityProvider,
  TEST_USERS,
  type TestDatabase,
  type TestIdentityProvider,
  testKafkaBrokers,
  uniqueTopic,
} from '@ticket/platform/testing';
import { ClientError, Status } from 'nice-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devSecret, type StackOptions, stackDown, stackUp } from '../src/stack.ts';
import { freeServicePorts } from './service-ports.ts';

// Who may call what, walked against the four services as `make up` runs them, with users' tokens from an identity
// provider (a real JWKS over HTTP, Keycloak's nested roles claim, issuer and audience checked) and the services'
// own tokens to booking. Each cell is how one call ended; a cell that passed authorization shows the RPC's own
// answer (OK, NOTFOUND for an order that is not the caller's, PRECOND for an empty cart, …).

const AUDIENCE = 'ticket-api';
const ROLES_CLAIM = 'realm_access.roles';

const COLUMNS = [
  'none',
  'buyer',
  'buyer2',
  'org',
  'org2',
  'scanner',
  'admin',
  'svc:event',
  'svc:checkout',
  'bad:iss',
  'bad:aud',
  'bad:key',
] as const;
type Column = (typeof COLUMNS)[number];

// The table the issue asks for. `buyer` owns the order and the notifications, `org` the event.
const EXPECTED = `
event.CreateLocation          UNAUTH  DENIED  DENIED  OK      OK      DENIED  OK      UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH
event.ListLocations           OK      OK      OK      OK      OK      OK      OK      UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH
event.CreateEvent             UNAUTH  DENIED  DENIED  OK      OK      DENIED  OK      UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH
event.GetEvent                OK      OK      OK      OK+own  OK      OK      OK+own  UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH
event.ListEvents              OK      OK      OK      OK      OK      OK      OK      UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH
event.GetTicket               OK      OK      OK      OK      OK      OK      OK      UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH
booking.CreateStock           UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  OK      DENIED  UNAUTH  UNAUTH  UNAUTH
booking.GetStocks             UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  OK      OK      UNAUTH  UNAUTH  UNAUTH
booking.GetStock              UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  OK      OK      UNAUTH  UNAUTH  UNAUTH
booking.DeleteStock           UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  OK      DENIED  UNAUTH  UNAUTH  UNAUTH
booking.CreateBooking         UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  DENIED  OK      UNAUTH  UNAUTH  UNAUTH
booking.GetBookings           UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  DENIED  OK      UNAUTH  UNAUTH  UNAUTH
booking.ExpireBookings        UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  DENIED  OK      UNAUTH  UNAUTH  UNAUTH
booking.DeleteOrderBookings   UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  DENIED  OK      UNAUTH  UNAUTH  UNAUTH
booking.ReturnSoldSeats       UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH  DENIED  NOTFND  UNAUTH  UNAUTH  UNAUTH
checkout.GetUserCart          UNAUTH  OK      DENIED  DENIED  DENIED  DENIED  OK      UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH
checkout.AddToCart            UNAUTH  OK      DENIED  DENIED  DENIED  DENIED  OK      UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH
checkout.UpdateCart           UNAUTH  OK      DENIED  DENIED  DENIED  DENIED  OK      UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH
checkout.PlaceOrder           UNAUTH  PRECOND DENIED  DENIED  DENIED  DENIED  PRECOND UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH
checkout.MarkOrderAsPaid      UNAUTH  DENIED  DENIED  DENIED  DENIED  DENIED  OK      UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH
checkout.CancelOrder          UNAUTH  NOTFND  DENIED  DENIED  DENIED  DENIED  NOTFND  UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH
checkout.GetOrder             UNAUTH  OK      DENIED  DENIED  DENIED  DENIED  OK      UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH
checkout.GetOrder(own id)     UNAUTH  OK      NOTFND  NOTFND  NOTFND  NOTFND  NOTFND  UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH
checkout.ListOrders           UNAUTH  OK      DENIED  DENIED  DENIED  DENIED  OK      UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH
checkout.RefundOrder          UNAUTH  DENIED  DENIED  PRECOND DENIED  DENIED  PRECOND UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH
notification.ListNotifications UNAUTH OK      DENIED  DENIED  DENIED  DENIED  OK      UNAUTH  UNAUTH  UNAUTH  UNAUTH  UNAUTH
`;

const SHORT: Partial<Record<Status, string>> = {
  [Status.UNAUTHENTICATED]: 'UNAUTH',
  [Status.PERMISSION_DENIED]: 'DENIED',
  [Status.NOT_FOUND]: 'NOTFND',
  [Status.FAILED_PRECONDITION]: 'PRECOND',
};

/** The columns that are users, as the shared test users (`buyer` owns the order, `org` the event). */
const USERS: Partial<Record<Column, { id: string; roles: readonly string[] }>> = {
  buyer: TEST_USERS.buyer,
  buyer2: TEST_USERS.otherBuyer,
  org: TEST_USERS.organizer,
  org2: TEST_USERS.otherOrganizer,
  scanner: TEST_USERS.scanner,
  admin: TEST_USERS.admin,
};

let database: TestDatabase;
let idp: TestIdentityProvider;
let options: StackOptions;
let ports: Record<'event' | 'booking' | 'checkout' | 'notification', number>;

beforeAll(async () => {
  database = await createTestDatabase('roles');
  idp = await startTestIdentityProvider();
  ports = await freeServicePorts();
  options = {
    stateDir: await mkdtemp(join(tmpdir(), 'ticket-roles-')),
    ports,
    metricsPorts: await freeServicePorts(),
    env: {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: testKafkaBrokers().join(','),
      MAIL_CATCHER_PORT: String(await freePort()),
      PAYMENT_SANDBOX_PORT: String(await freePort()),
      PAYMENT_WEBHOOK_PORT: String(await freePort()),
      AUTH_JWKS_URL: idp.jwksUrl,
      AUTH_ISSUER: idp.issuer,
      AUTH_AUDIENCE: AUDIENCE,
      AUTH_ROLES_CLAIM: ROLES_CLAIM,
      ORDER_EVENTS_TOPIC: uniqueTopic('roles-order-events'),
      BOOKING_EVENTS_TOPIC: uniqueTopic('roles-bookings-expired'),
      LOG_LEVEL: 'warn',
    },
  };
  await stackUp(options);
});

afterAll(async () => {
  if (options) {
    await stackDown(options);
    await rm(options.stateDir, { recursive: true, force: true });
  }
  await idp?.close();
  await database?.drop();
});

/** Call options of each column: its token, or none. */
async function credentials(): Promise<Record<Column, { metadata?: ReturnType<typeof bearer>['metadata'] }>> {
  const key = await idp.addKey('RS256');
  const stranger: IdpKey = await idp.addKey('ES256', { publish: false });
  const sign = (
    signingKey: IdpKey,
    sub: string,
    roles: readonly string[],
    claims: { iss?: string; aud?: string } = {},
  ) => idp.sign(signingKey, { sub, roles, rolesClaim: ROLES_CLAIM, aud: AUDIENCE, ...claims });
  const serviceSecret = await devSecret(options, 'SERVICE_AUTH_SECRET');
  const serviceToken = (service: string) =>
    createServiceTokenSource({ secret: serviceSecret, service, audience: 'booking' })();
  const entries = await Promise.all(
    COLUMNS.map(async (column): Promise<[Column, { metadata?: ReturnType<typeof bearer>['metadata'] }]> => {
      const user = USERS[column];
      if (user) return [column, bearer(await sign(key, user.id, user.roles))];
      switch (column) {
        case 'svc:event':
          return [column, bearer(await serviceToken('event'))];
        case 'svc:checkout':
          return [column, bearer(await serviceToken('checkout'))];
        case 'bad:iss':
          return [column, bearer(await sign(key, 'admin-1', [Role.admin], { iss: 'https://idp.elsewhere.example' }))];
        case 'bad:aud':
          return [column, bearer(await sign(key, 'admin-1', [Role.admin], { aud: 'another-api' }))];
        case 'bad:key':
          return [column, bearer(await sign(stranger, 'admin-1', [Role.admin]))];
        default:
          return [column, {}];
      }
    }),
  );
  return Object.fromEntries(entries) as Record<Column, { metadata?: ReturnType<typeof bearer>['metadata'] }>;
}

describe('the role matrix', () => {
  it('gives every caller of every RPC the status the security model says', async () => {
    const tokens = await credentials();
    const address = (name: keyof typeof ports) => `127.0.0.1:${ports[name]}`;
    const event = createServiceClient(EventServiceDefinition, address('event'), { retries: 0 });
    const booking = createServiceClient(BookingServiceDefinition, address('booking'), { retries: 0 });
    const checkout = createServiceClient(CheckoutServiceDefinition, address('checkout'), { retries: 0 });
    const notification = createServiceClient(NotificationServiceDefinition, address('notification'), { retries: 0 });
    try {
      // What the rows act on: org's event, the buyer's order.
      const startsAt = new Date(Date.now() + 30 * 24 * 3600_000);
      const eventRequest = () => ({
        idempotencyKey: randomUUID(),
        name: 'Matrix Live',
        description: '',
        startsAt,
        endsAt: new Date(startsAt.getTime() + 3_600_000),
        ticketTypes: [{ name: 'General', price: { amountMinor: 1_000, currency: 'EUR' }, seats: 100 }],
      });
      const { event: owned } = await event.client.createEvent(eventRequest(), tokens.org);
      const eventId = owned?.id ?? '';
      const ticketTypeId = owned?.ticketTypes[0]?.id ?? '';
      const buyer = USERS.buyer?.id ?? '';
      await checkout.client.addToCart({ userId: buyer, ticketTypeId, quantity: 1 }, tokens.buyer);
      const { order } = await checkout.client.placeOrder(
        { userId: buyer, idempotencyKey: randomUUID(), email: 'buyer@example.com' },
        tokens.buyer,
      );
      const orderId = order?.id ?? '';
      const payKey = randomUUID();

      type Call = (column: Column, callOptions: object) => Promise<string | undefined>;
      const rows: Record<string, Call> = {
        'event.CreateLocation': (_, o) => done(event.client.createLocation({ name: `Hall ${randomUUID()}` }, o)),
        'event.ListLocations': (_, o) => done(event.client.listLocations({}, o)),
        'event.CreateEvent': (_, o) => done(event.client.createEvent(eventRequest(), o)),
        'event.GetEvent': async (_, o) => {
          const { event: found } = await event.client.getEvent({ eventId }, o);
          return found?.organizerId ? `OK+own` : 'OK';
        },
        'event.ListEvents': (_, o) => done(event.client.listEvents({}, o)),
        'event.GetTicket': (_, o) => done(event.client.getTicket({ ticketTypeId }, o)),
        'booking.CreateStock': (_, o) =>
          done(booking.client.createStock({ eventId: randomUUID(), ticketTypeId: randomUUID(), seatsTotal: 1 }, o)),
        'booking.GetStocks': (_, o) => done(booking.client.getStocks({ eventId }, o)),
        'booking.GetStock': (_, o) => done(booking.client.getStock({ eventId, ticketTypeId }, o)),
        'booking.DeleteStock': async (_, o) => {
          const stock = { eventId: randomUUID(), ticketTypeId: randomUUID() };
          await booking.client.createStock({ ...stock, seatsTotal: 1 }, tokens['svc:event']);
          return done(booking.client.deleteStock(stock, o));
        },
        'booking.CreateBooking': (_, o) =>
          done(
            booking.client.createBooking(
              { idempotencyKey: randomUUID(), orderId: randomUUID(), userId: buyer, eventId, ticketTypeId, seats: 1 },
              o,
            ),
          ),
        'booking.GetBookings': (_, o) => done(booking.client.getBookings({ orderId }, o)),
        'booking.ExpireBookings': async (_, o) => {
          const hold = {
            idempotencyKey: randomUUID(),
            orderId: randomUUID(),
            userId: buyer,
            eventId,
            ticketTypeId,
            seats: 1,
          };
          const { booking: held } = await booking.client.createBooking(hold, tokens['svc:checkout']);
          return done(booking.client.expireBookings({ orderId: hold.orderId, bookingIds: [held?.id ?? ''] }, o));
        },
        'booking.DeleteOrderBookings': async (_, o) => {
          const hold = {
            idempotencyKey: randomUUID(),
            orderId: randomUUID(),
            userId: buyer,
            eventId,
            ticketTypeId,
            seats: 1,
          };
          await booking.client.createBooking(hold, tokens['svc:checkout']);
          return done(booking.client.deleteOrderBookings({ orderId: hold.orderId }, o));
        },
        'booking.ReturnSoldSeats': (_, o) =>
          done(
            booking.client.returnSoldSeats(
              { orderId: randomUUID(), seats: [{ eventId, ticketTypeId, seats: 1 }], idempotencyKey: randomUUID() },
              o,
            ),
          ),
        'checkout.GetUserCart': (_, o) => done(checkout.client.getUserCart({ userId: buyer }, o)),
        'checkout.AddToCart': (_, o) =>
          done(checkout.client.addToCart({ userId: buyer, ticketTypeId, quantity: 1 }, o)),
        // Empties the cart the row above filled, so PlaceOrder meets an empty cart whoever gets through.
        'checkout.UpdateCart': (_, o) =>
          done(checkout.client.updateCart({ userId: buyer, ticketTypeId, quantity: 0 }, o)),
        'checkout.PlaceOrder': (_, o) =>
          done(checkout.client.placeOrder({ userId: buyer, idempotencyKey: randomUUID(), email: 'b@example.com' }, o)),
        'checkout.MarkOrderAsPaid': (_, o) =>
          done(
            checkout.client.markOrderAsPaid(
              { userId: buyer, orderId, paymentReference: 'box-office-1', idempotencyKey: payKey },
              o,
            ),
          ),
        'checkout.CancelOrder': (_, o) =>
          done(checkout.client.cancelOrder({ userId: buyer, orderId: randomUUID() }, o)),
        'checkout.GetOrder': (_, o) => done(checkout.client.getOrder({ userId: buyer, orderId }, o)),
        // Each caller asks for the buyer's order as itself: it is not found rather than refused, so nobody learns
        // that it exists (an admin too: its own id is not the buyer's).
        'checkout.GetOrder(own id)': (column, o) =>
          done(checkout.client.getOrder({ userId: USERS[column]?.id ?? buyer, orderId }, o)),
        'checkout.ListOrders': (_, o) => done(checkout.client.listOrders({ userId: buyer }, o)),
        // The order the box office paid above: the organizer and admins get as far as "not through the provider";
        // the buyer has no refund window on this event.
        'checkout.RefundOrder': (_, o) =>
          done(
            checkout.client.refundOrder({ userId: buyer, orderId, ticketCodes: [], idempotencyKey: randomUUID() }, o),
          ),
        'notification.ListNotifications': (_, o) => done(notification.client.listNotifications({ userId: buyer }, o)),
      };

      const observed: string[] = [];
      for (const [rpc, call] of Object.entries(rows)) {
        const cells: string[] = [];
        for (const column of COLUMNS) cells.push(await outcome(call(column, tokens[column])));
        observed.push([rpc, ...cells].join(' '));
      }
      const expected = EXPECTED.trim()
        .split('\n')
        .map((line) => line.trim().split(/\s+/).join(' '));
      console.log(`role matrix (${COLUMNS.join(' ')}):\n${observed.join('\n')}`);
      expect(observed).toEqual(expected);
    } finally {
      for (const client of [event, booking, checkout, notification]) client.close();
    }
  });
});

const done = async (call: Promise<unknown>): Promise<undefined> => {
  await call;
  return undefined;
};

/** A cell: OK (or what the call observed) when it succeeded, else the status in short. */
async function outcome(call: Promise<string | undefined>): Promise<string> {
  try {
    return (await call) ?? 'OK';
  } catch (error) {
    if (error instanceof ClientError) return SHORT[error.code] ?? Status[error.code];
    throw error;
  }
}
