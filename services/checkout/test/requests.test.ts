import { randomUUID } from 'node:crypto';
import { CheckoutServiceDefinition, OrderStatus } from '@ticket/contracts/v1/checkout/checkout_service';
import { createServiceClient, Role, signUserToken } from '@ticket/platform';
import { asService, testKafkaBrokers } from '@ticket/platform/testing';
import { createChannel, createClient, Metadata } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckoutConfig } from '../src/config.ts';
import { CHECKOUT_SCHEMA, startCheckoutService } from '../src/service.ts';
import { type CheckoutHarness, logger, outcome, startCheckoutHarness } from './harness.ts';

let h: CheckoutHarness;
beforeAll(async () => {
  h = await startCheckoutHarness();
});
afterAll(() => h?.close());

const user = 'alice';
const orderId = randomUUID();

/** A CREATED order of `userId` (one seat), placed by that user. */
async function placeOrderOf(userId: string): Promise<string> {
  const event = await h.createEvent([{ name: 'GA', priceMinor: 100, seats: 5 }]);
  const auth = await h.as(userId);
  await h.checkout.addToCart({ userId, ticketTypeId: event.ticketTypes[0]!.id, quantity: 1 }, auth);
  const { order } = await h.checkout.placeOrder({ userId, idempotencyKey: randomUUID(), email: 'a@example.com' }, auth);
  return order!.id;
}

/** One call of every RPC, made by `userId` with the given options. */
const everyRpc = (userId: string) =>
  [
    ['GetUserCart', (o: object) => h.checkout.getUserCart({ userId }, o)],
    ['AddToCart', (o: object) => h.checkout.addToCart({ userId, ticketTypeId: randomUUID(), quantity: 1 }, o)],
    ['UpdateCart', (o: object) => h.checkout.updateCart({ userId, ticketTypeId: randomUUID(), quantity: 0 }, o)],
    ['PlaceOrder', (o: object) => h.checkout.placeOrder({ userId, idempotencyKey: 'k', email: 'a@example.com' }, o)],
    [
      'MarkOrderAsPaid',
      (o: object) => h.checkout.markOrderAsPaid({ userId, orderId, paymentReference: 'p', idempotencyKey: 'k' }, o),
    ],
    ['CancelOrder', (o: object) => h.checkout.cancelOrder({ userId, orderId }, o)],
    ['GetOrder', (o: object) => h.checkout.getOrder({ userId, orderId }, o)],
    ['ListOrders', (o: object) => h.checkout.listOrders({ userId, pageSize: 0, pageToken: '' }, o)],
  ] as const;

describe('authentication', () => {
  it('answers UNAUTHENTICATED on every RPC without a token, with a malformed one or one signed with another secret', async () => {
    const foreign = await signUserToken(randomUUID() + randomUUID(), user, 60);
    for (const [rpc, call] of everyRpc(user)) {
      expect(`${rpc} ${await outcome(call({}))}`).toMatch(new RegExp(`^${rpc} UNAUTHENTICATED: missing authorization`));
      const garbage = { metadata: Metadata({ authorization: 'Bearer abc.def.ghi' }) };
      expect(`${rpc} ${await outcome(call(garbage))}`).toBe(`${rpc} UNAUTHENTICATED: invalid token`);
      const wrongKey = { metadata: Metadata({ authorization: `Bearer ${foreign}` }) };
      expect(`${rpc} ${await outcome(call(wrongKey))}`).toBe(`${rpc} UNAUTHENTICATED: invalid token`);
    }
  });

  it('answers PERMISSION_DENIED on every RPC made for another user, whatever other role the caller has', async () => {
    for (const roles of [[], [Role.organizer], [Role.scanner]]) {
      const mallory = await h.as('mallory', roles);
      for (const [rpc, call] of everyRpc(user)) {
        expect(`${rpc} ${await outcome(call(mallory))}`).toBe(
          rpc === 'MarkOrderAsPaid'
            ? `${rpc} PERMISSION_DENIED: this method needs the role admin`
            : `${rpc} PERMISSION_DENIED: user_id does not match the authenticated caller`,
        );
      }
    }
  });

  it('answers PERMISSION_DENIED to a service token: checkout is for users', async () => {
    const service = await asService(h.serviceSecret, 'event', 'checkout');
    expect(await outcome(h.checkout.getUserCart({ userId: user }, service))).toBe('UNAUTHENTICATED: invalid token');
  });

  it('answers NOT_FOUND for another user’s order, exactly as for a missing one', async () => {
    const id = await placeOrderOf(user);
    const bob = await h.as('bob');
    expect(await outcome(h.checkout.getOrder({ userId: 'bob', orderId: id }, bob))).toBe(
      `NOT_FOUND: order ${id} not found`,
    );
    expect(await outcome(h.checkout.cancelOrder({ userId: 'bob', orderId: id }, bob))).toBe(
      `NOT_FOUND: order ${id} not found`,
    );
    // Only an admin gets as far as looking the order up; acting for the wrong user, they are told no more.
    const admin = await h.asAdmin();
    const pay = (userId: string) =>
      outcome(h.checkout.markOrderAsPaid({ userId, orderId: id, paymentReference: 'p', idempotencyKey: 'k' }, admin));
    expect(await pay('bob')).toBe(`NOT_FOUND: order ${id} not found`);
    expect(await pay('box-office')).toBe(`NOT_FOUND: order ${id} not found`);
    expect(await outcome(h.checkout.getOrder({ userId: 'bob', orderId: id }, admin))).toBe(
      `NOT_FOUND: order ${id} not found`,
    );
    expect(await outcome(h.checkout.getOrder({ userId: user, orderId: randomUUID() }, await h.as(user)))).toMatch(
      /^NOT_FOUND/,
    );
  });

  it('leaves health open', async () => {
    const channel = createChannel(`127.0.0.1:${h.checkouts[0]!.port}`);
    try {
      expect(await createClient(HealthDefinition, channel).check({ service: '' })).toMatchObject({ status: 1 });
    } finally {
      channel.close();
    }
  });
});

describe('roles', () => {
  const payment = (userId: string, id: string) => ({
    userId,
    orderId: id,
    paymentReference: `box-office-${id}`,
    idempotencyKey: id,
  });

  it('lets only an admin mark an order paid: the buyer gets PERMISSION_DENIED, the box office the paid order', async () => {
    const buyer = `buyer-${randomUUID()}`;
    const id = await placeOrderOf(buyer);
    expect(await outcome(h.checkout.markOrderAsPaid(payment(buyer, id), await h.as(buyer)))).toBe(
      'PERMISSION_DENIED: this method needs the role admin',
    );
    expect(await outcome(h.checkout.markOrderAsPaid(payment(buyer, id), await h.as(buyer, [Role.organizer])))).toBe(
      'PERMISSION_DENIED: this method needs the role admin',
    );
    const { order } = await h.checkout.markOrderAsPaid(payment(buyer, id), await h.asAdmin());
    expect(order).toMatchObject({ id, userId: buyer, status: OrderStatus.ORDER_STATUS_PAID });
    expect(order?.tickets).toHaveLength(1);
    // The buyer sees their paid order and its ticket.
    const seen = await h.checkout.getOrder({ userId: buyer, orderId: id }, await h.as(buyer));
    expect(seen.order?.tickets.map((ticket) => ticket.code)).toEqual(order?.tickets.map((ticket) => ticket.code));
  });

  it('lets an admin read, list and cancel any user’s orders, and act on their cart', async () => {
    const buyer = `buyer-${randomUUID()}`;
    const id = await placeOrderOf(buyer);
    const admin = await h.asAdmin();
    expect((await h.checkout.getOrder({ userId: buyer, orderId: id }, admin)).order?.id).toBe(id);
    const listed = await h.checkout.listOrders({ userId: buyer, pageSize: 0, pageToken: '' }, admin);
    expect(listed.orders.map((order) => order.id)).toEqual([id]);
    expect((await h.checkout.getUserCart({ userId: buyer }, admin)).cart).toMatchObject({ userId: buyer, items: [] });
    const { order } = await h.checkout.cancelOrder({ userId: buyer, orderId: id }, admin);
    expect(order).toMatchObject({ id, userId: buyer, status: OrderStatus.ORDER_STATUS_CANCELLED });
  });

  it('refuses a page token of another user’s list, naming page_token', async () => {
    const [first, second] = [`buyer-${randomUUID()}`, `buyer-${randomUUID()}`];
    await placeOrderOf(first);
    await placeOrderOf(first);
    await placeOrderOf(second);
    const page = await h.checkout.listOrders({ userId: first, pageSize: 1, pageToken: '' }, await h.as(first));
    expect(page.nextPageToken).not.toBe('');
    expect(
      await outcome(
        h.checkout.listOrders({ userId: second, pageSize: 1, pageToken: page.nextPageToken }, await h.as(second)),
      ),
    ).toMatch(/^INVALID_ARGUMENT: .*page_token.*another user_id/);
  });

  it('does not let a buyer act for another user, even on that user’s own order', async () => {
    const buyer = `buyer-${randomUUID()}`;
    const id = await placeOrderOf(buyer);
    const other = await h.as(`other-${randomUUID()}`);
    // Each call's outcome is taken at once, so no refusal waits unobserved while an earlier one is awaited.
    const outcomes = await Promise.all([
      outcome(h.checkout.getOrder({ userId: buyer, orderId: id }, other)),
      outcome(h.checkout.cancelOrder({ userId: buyer, orderId: id }, other)),
      outcome(h.checkout.listOrders({ userId: buyer, pageSize: 0, pageToken: '' }, other)),
      outcome(h.checkout.getUserCart({ userId: buyer }, other)),
    ]);
    expect(outcomes).toEqual(Array(4).fill('PERMISSION_DENIED: user_id does not match the authenticated caller'));
    expect((await h.checkout.getOrder({ userId: buyer, orderId: id }, await h.as(buyer))).order?.status).toBe(
      OrderStatus.ORDER_STATUS_CREATED,
    );
  });
});

describe('bad input', () => {
  const cases: Array<[string, (auth: object) => Promise<unknown>, string]> = [
    ['GetUserCart user_id', (a) => h.checkout.getUserCart({ userId: '' }, a), 'user_id'],
    [
      'AddToCart ticket_type_id',
      (a) => h.checkout.addToCart({ userId: user, ticketTypeId: 'nope', quantity: 1 }, a),
      'ticket_type_id',
    ],
    [
      'AddToCart quantity 0',
      (a) => h.checkout.addToCart({ userId: user, ticketTypeId: randomUUID(), quantity: 0 }, a),
      'quantity',
    ],
    [
      'AddToCart quantity -3',
      (a) => h.checkout.addToCart({ userId: user, ticketTypeId: randomUUID(), quantity: -3 }, a),
      'quantity',
    ],
    [
      'AddToCart quantity over the order limit',
      (a) => h.checkout.addToCart({ userId: user, ticketTypeId: randomUUID(), quantity: 11 }, a),
      'quantity',
    ],
    [
      'UpdateCart quantity -1',
      (a) => h.checkout.updateCart({ userId: user, ticketTypeId: randomUUID(), quantity: -1 }, a),
      'quantity',
    ],
    [
      'UpdateCart ticket_type_id',
      (a) => h.checkout.updateCart({ userId: user, ticketTypeId: '', quantity: 1 }, a),
      'ticket_type_id',
    ],
    [
      'PlaceOrder idempotency_key',
      (a) => h.checkout.placeOrder({ userId: user, idempotencyKey: '', email: 'a@example.com' }, a),
      'idempotency_key',
    ],
    [
      'PlaceOrder idempotency_key with spaces',
      (a) => h.checkout.placeOrder({ userId: user, idempotencyKey: 'a b', email: 'a@example.com' }, a),
      'idempotency_key',
    ],
    [
      'PlaceOrder email',
      (a) => h.checkout.placeOrder({ userId: user, idempotencyKey: 'k', email: 'not-an-email' }, a),
      'email',
    ],
    [
      'PlaceOrder missing email',
      (a) => h.checkout.placeOrder({ userId: user, idempotencyKey: 'k', email: '' }, a),
      'email',
    ],
    [
      'MarkOrderAsPaid order_id',
      (a) => h.checkout.markOrderAsPaid({ userId: user, orderId: '42', paymentReference: 'p', idempotencyKey: 'k' }, a),
      'order_id',
    ],
    [
      'MarkOrderAsPaid payment_reference',
      (a) => h.checkout.markOrderAsPaid({ userId: user, orderId, paymentReference: ' ', idempotencyKey: 'k' }, a),
      'payment_reference',
    ],
    [
      'MarkOrderAsPaid idempotency_key',
      (a) => h.checkout.markOrderAsPaid({ userId: user, orderId, paymentReference: 'p', idempotencyKey: '' }, a),
      'idempotency_key',
    ],
    ['CancelOrder order_id', (a) => h.checkout.cancelOrder({ userId: user, orderId: 'x' }, a), 'order_id'],
    ['GetOrder order_id', (a) => h.checkout.getOrder({ userId: user, orderId: '' }, a), 'order_id'],
    [
      'ListOrders page_size',
      (a) => h.checkout.listOrders({ userId: user, pageSize: -1, pageToken: '' }, a),
      'page_size',
    ],
    [
      'ListOrders page_token',
      (a) => h.checkout.listOrders({ userId: user, pageSize: 0, pageToken: 'garbage' }, a),
      'page_token',
    ],
    [
      'ListOrders forged page_token',
      (a) =>
        h.checkout.listOrders(
          {
            userId: user,
            pageSize: 0,
            pageToken: Buffer.from(JSON.stringify([user, '1', 'not-a-uuid'])).toString('base64url'),
          },
          a,
        ),
      'page_token',
    ],
    [
      'ListOrders page_token past any real instant',
      (a) =>
        h.checkout.listOrders(
          {
            userId: user,
            pageSize: 0,
            pageToken: Buffer.from(JSON.stringify([user, '9999999999999999999', randomUUID()])).toString('base64url'),
          },
          a,
        ),
      'page_token',
    ],
    [
      'ListOrders page_token in the year 292278 (interval out of range)',
      (a) =>
        h.checkout.listOrders(
          {
            userId: user,
            pageSize: 0,
            pageToken: Buffer.from(JSON.stringify([user, '9223372036854775807', randomUUID()])).toString('base64url'),
          },
          a,
        ),
      'page_token',
    ],
  ];

  it.each(cases)('%s → INVALID_ARGUMENT naming the field', async (name, call, fieldName) => {
    // MarkOrderAsPaid is the box office's: a buyer would be refused before the request is read.
    const caller = name.startsWith('MarkOrderAsPaid') ? await h.asAdmin() : await h.as(user);
    const result = await outcome(call(caller));
    expect(result).toMatch(/^INVALID_ARGUMENT: /);
    expect(result).toContain(fieldName);
  });

  it('answers NOT_FOUND for a ticket type the event service does not know', async () => {
    expect(
      await outcome(h.checkout.addToCart({ userId: user, ticketTypeId: randomUUID(), quantity: 1 }, await h.as(user))),
    ).toMatch(/^NOT_FOUND: ticket type/);
  });

  it('answers UNAVAILABLE, not INTERNAL, while booking is unreachable, and records no order', async () => {
    const service = await startCheckoutService(
      loadCheckoutConfig({
        DATABASE_URL: h.database.roleUrl(CHECKOUT_SCHEMA),
        KAFKA_BROKERS: testKafkaBrokers().join(','),
        GRPC_HOST: '127.0.0.1',
        GRPC_PORT: '0',
        EVENT_ADDR: `127.0.0.1:${h.event.port}`,
        BOOKING_ADDR: '127.0.0.1:1',
        BOOKING_DEADLINE_MS: '1500',
        AUTH_JWT_SECRET: h.secret,
        SERVICE_AUTH_SECRET: h.serviceSecret,
        PAYMENT_SANDBOX_URL: h.psp.sandbox.url,
        PAYMENT_SANDBOX_API_KEY: h.psp.apiKey,
        PAYMENT_SANDBOX_WEBHOOK_SECRET: h.psp.webhookSecret,
        PAYMENT_WEBHOOK_PORT: '0',
        ORDER_EVENTS_TOPIC: h.orderTopic,
        BOOKING_EVENTS_TOPIC: h.bookingTopic,
        BOOKING_EVENTS_GROUP: `checkout.unreachable.${randomUUID()}`,
        BOOKING_EVENTS_DLQ_TOPIC: `${h.bookingTopic}.dlq`,
        EXPIRY_CHECK_SCHEDULE: '0 0 3 * * *',
      }),
      logger,
    );
    const { client, close } = createServiceClient(CheckoutServiceDefinition, `127.0.0.1:${service.port}`, {
      retries: 0,
    });
    try {
      const event = await h.createEvent([{ name: 'GA', priceMinor: 100, seats: 5 }]);
      const buyer = `buyer-${randomUUID()}`;
      const auth = await h.as(buyer);
      await client.addToCart({ userId: buyer, ticketTypeId: event.ticketTypes[0]!.id, quantity: 1 }, auth);
      expect(
        await outcome(client.placeOrder({ userId: buyer, idempotencyKey: 'k', email: 'a@example.com' }, auth)),
      ).toMatch(/^UNAVAILABLE: /);
      const [row] = await h.sql<
        { n: number }[]
      >`select count(*)::int as n from checkout.orders where user_id = ${buyer}`;
      expect(row?.n).toBe(0);
      expect((await client.getUserCart({ userId: buyer }, auth)).cart?.items).toHaveLength(1);
    } finally {
      close();
      await service.stop();
    }
  });
});

describe('configuration', () => {
  const keys = {
    AUTH_JWT_SECRET: 'x'.repeat(32),
    SERVICE_AUTH_SECRET: 'y'.repeat(32),
    PAYMENT_SANDBOX_API_KEY: 'sandbox-key',
    PAYMENT_SANDBOX_WEBHOOK_SECRET: 'z'.repeat(32),
  };

  it('requires a way to verify users’ tokens and a service key, each of at least 32 characters', () => {
    expect(() => loadCheckoutConfig({})).toThrow(/SERVICE_AUTH_SECRET: required but not set/);
    expect(() => loadCheckoutConfig({ SERVICE_AUTH_SECRET: keys.SERVICE_AUTH_SECRET })).toThrow(
      /AUTH_JWT_SECRET or AUTH_JWKS_URL: set at least one/,
    );
    expect(() => loadCheckoutConfig({ ...keys, AUTH_JWT_SECRET: 'short' })).toThrow(
      /AUTH_JWT_SECRET: must be at least 32/,
    );
    expect(() => loadCheckoutConfig({ ...keys, SERVICE_AUTH_SECRET: 'short' })).toThrow(
      /SERVICE_AUTH_SECRET: must be at least 32/,
    );
    expect(() => loadCheckoutConfig({ ...keys, EXPIRY_CHECK_SCHEDULE: 'often' })).toThrow(/EXPIRY_CHECK_SCHEDULE/);
    expect(() => loadCheckoutConfig({ ...keys, PAYMENT_PROVIDER: 'stripe' })).toThrow(
      /STRIPE_SECRET_KEY: required when PAYMENT_PROVIDER is stripe/,
    );
    expect(() => loadCheckoutConfig({ ...keys, PAYMENT_SANDBOX_API_KEY: undefined })).toThrow(
      /PAYMENT_SANDBOX_API_KEY: required when PAYMENT_PROVIDER is sandbox/,
    );
    expect(
      loadCheckoutConfig({
        ...keys,
        AUTH_JWT_SECRET: undefined,
        AUTH_JWKS_URL: 'https://idp.example.com/certs',
      }),
    ).toMatchObject({ AUTH_JWKS_URL: 'https://idp.example.com/certs', AUTH_ROLES_CLAIM: 'roles' });
    const config = loadCheckoutConfig(keys);
    expect(config).toMatchObject({
      GRPC_PORT: 50620,
      EVENT_ADDR: '127.0.0.1:50600',
      BOOKING_ADDR: '127.0.0.1:50610',
      MAX_SEATS_PER_ORDER: 10,
      ORDER_EVENTS_TOPIC: 'ticket.checkout.v1.order-events',
      BOOKING_EVENTS_TOPIC: 'ticket.booking.v1.bookings-expired',
    });
  });
});
