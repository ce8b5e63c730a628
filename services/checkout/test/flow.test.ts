import { randomUUID } from 'node:crypto';
import { OrderStatus } from '@ticket/contracts/v1/checkout/checkout_service';
import { OrderEventType } from '@ticket/contracts/v1/checkout/order_events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderIdFor } from '../src/domain/order.ts';
import { type CheckoutHarness, outcome, startCheckoutHarness, statusOf, stockLedger } from './harness.ts';

const newUser = () => `user-${randomUUID()}`;

/** A user with `quantity` seats of `ticketTypeId` in the cart. */
async function buyerWith(ticketTypeId: string, quantity: number, user = newUser()) {
  const auth = await h.as(user);
  await h.checkout.addToCart({ userId: user, ticketTypeId, quantity }, auth);
  return { user, auth };
}

let h: CheckoutHarness;
beforeAll(async () => {
  h = await startCheckoutHarness();
});
afterAll(() => h?.close());

describe('place, pay, read the events back', () => {
  it('turns a cart into a CREATED order with holds, then PAID with one unique ticket per seat', async () => {
    const event = await h.createEvent([
      { name: 'Standing', priceMinor: 4_500, seats: 20 },
      { name: 'Seated', priceMinor: 8_000, seats: 10 },
    ]);
    const [standing, seated] = event.ticketTypes;
    const user = `user-${randomUUID()}`;
    const auth = await h.as(user);
    await h.checkout.addToCart({ userId: user, ticketTypeId: standing!.id, quantity: 2 }, auth);
    await h.checkout.addToCart({ userId: user, ticketTypeId: standing!.id, quantity: 1 }, auth);
    const { cart } = await h.checkout.addToCart({ userId: user, ticketTypeId: seated!.id, quantity: 1 }, auth);
    expect(cart?.items.map((item) => [item.ticketTypeName, item.quantity, item.unitPrice?.amountMinor])).toEqual([
      ['Standing', 3, 4_500],
      ['Seated', 1, 8_000],
    ]);
    expect(cart?.total).toEqual({ amountMinor: 3 * 4_500 + 8_000, currency: 'EUR' });

    const key = randomUUID();
    const { order } = await h.checkout.placeOrder({ userId: user, idempotencyKey: key, email: 'a@example.com' }, auth);
    expect(order).toMatchObject({
      userId: user,
      email: 'a@example.com',
      status: OrderStatus.ORDER_STATUS_CREATED,
      total: { amountMinor: 21_500, currency: 'EUR' },
      tickets: [],
    });
    expect(order!.expiresAt!.getTime()).toBeGreaterThan(Date.now());
    expect((await h.checkout.getUserCart({ userId: user }, auth)).cart?.items).toEqual([]);
    expect(await stockLedger(h.sql, standing!.id)).toMatchObject({ booked: 3, held: 3, sold: 0 });

    const paid = await h.checkout.markOrderAsPaid(
      { userId: user, orderId: order!.id, paymentReference: 'pay-1', idempotencyKey: 'pay-key-1' },
      await h.asAdmin(),
    );
    expect(paid.order).toMatchObject({ status: OrderStatus.ORDER_STATUS_PAID, paymentReference: 'pay-1' });
    expect(paid.order?.tickets).toHaveLength(4);
    const codes = paid.order!.tickets.map((ticket) => ticket.code);
    expect(new Set(codes).size).toBe(4);
    for (const code of codes) expect(code).toMatch(/^[A-Z2-7]{24}$/);
    expect(await stockLedger(h.sql, standing!.id)).toMatchObject({ booked: 3, held: 0, sold: 3 });

    // A repeat of the payment answers the same order and tickets.
    const again = await h.checkout.markOrderAsPaid(
      { userId: user, orderId: order!.id, paymentReference: 'pay-1', idempotencyKey: 'pay-key-1' },
      await h.asAdmin(),
    );
    expect(again.order?.tickets.map((ticket) => ticket.code)).toEqual(codes);
    // Another payment of a paid order is too late: the caller must refund it.
    expect(
      await outcome(
        h.checkout.markOrderAsPaid(
          { userId: user, orderId: order!.id, paymentReference: 'pay-2', idempotencyKey: 'pay-key-2' },
          await h.asAdmin(),
        ),
      ),
    ).toMatch(/^FAILED_PRECONDITION: .*paid.*refunded/);

    const events = (await h.readOrderEvents(2)).filter((message) => message.key === order!.id);
    expect(events.map((message) => message.event.eventType)).toEqual([
      OrderEventType.ORDER_EVENT_TYPE_CREATED,
      OrderEventType.ORDER_EVENT_TYPE_PAID,
    ]);
    expect(events[1]?.event.order?.tickets.map((ticket) => ticket.code)).toEqual(codes);
    expect(events[0]?.event.order?.email).toBe('a@example.com');
  });
});

describe('cancel', () => {
  it('releases exactly the order’s holds and announces CANCELLED; a cancelled order can be neither paid nor cancelled', async () => {
    const event = await h.createEvent([{ name: 'GA', priceMinor: 1_000, seats: 5 }]);
    const ticketTypeId = event.ticketTypes[0]!.id;
    const other = await buyerWith(ticketTypeId, 1);
    const kept = await h.checkout.placeOrder(
      { userId: other.user, idempotencyKey: randomUUID(), email: 'o@example.com' },
      other.auth,
    );
    const { user, auth } = await buyerWith(ticketTypeId, 3);
    const { order } = await h.checkout.placeOrder(
      { userId: user, idempotencyKey: randomUUID(), email: 'c@example.com' },
      auth,
    );
    expect(await stockLedger(h.sql, ticketTypeId)).toMatchObject({ booked: 4, held: 4 });

    const { order: cancelled } = await h.checkout.cancelOrder({ userId: user, orderId: order!.id }, auth);
    expect(cancelled?.status).toBe(OrderStatus.ORDER_STATUS_CANCELLED);
    // The other buyer's hold is untouched.
    expect(await stockLedger(h.sql, ticketTypeId)).toMatchObject({ booked: 1, held: 1 });
    expect(kept.order?.status).toBe(OrderStatus.ORDER_STATUS_CREATED);

    expect(await outcome(h.checkout.cancelOrder({ userId: user, orderId: order!.id }, auth))).toMatch(
      /^FAILED_PRECONDITION: .*cancelled/,
    );
    expect(
      await statusOf(
        h.checkout.markOrderAsPaid(
          { userId: user, orderId: order!.id, paymentReference: 'p', idempotencyKey: 'k' },
          await h.asAdmin(),
        ),
      ),
    ).toBe('FAILED_PRECONDITION');
    const types = (await h.orderEventsOf(order!.id)).map((e) => e.eventType);
    expect(types).toEqual([OrderEventType.ORDER_EVENT_TYPE_CREATED, OrderEventType.ORDER_EVENT_TYPE_CANCELLED]);
  });

  it('refuses to cancel a paid order, and keeps its seats sold', async () => {
    const event = await h.createEvent([{ name: 'GA', priceMinor: 1_000, seats: 5 }]);
    const ticketTypeId = event.ticketTypes[0]!.id;
    const { user, auth } = await buyerWith(ticketTypeId, 2);
    const { order } = await h.checkout.placeOrder(
      { userId: user, idempotencyKey: randomUUID(), email: 'p@example.com' },
      auth,
    );
    await h.checkout.markOrderAsPaid(
      { userId: user, orderId: order!.id, paymentReference: 'p', idempotencyKey: 'k' },
      await h.asAdmin(),
    );
    expect(await statusOf(h.checkout.cancelOrder({ userId: user, orderId: order!.id }, auth))).toBe(
      'FAILED_PRECONDITION',
    );
    expect(await stockLedger(h.sql, ticketTypeId)).toMatchObject({ booked: 2, sold: 2 });
  });
});

describe('PlaceOrder idempotency and refusals', () => {
  it('gives 10 concurrent calls with one key (on two replicas) one order, holding the seats once', async () => {
    const second = h.checkoutClients[1] ?? (await h.addCheckoutReplica());
    const event = await h.createEvent([{ name: 'GA', priceMinor: 2_500, seats: 50 }]);
    const ticketTypeId = event.ticketTypes[0]!.id;
    const { user, auth } = await buyerWith(ticketTypeId, 4);
    const key = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 === 0 ? h.checkout : second).placeOrder(
          { userId: user, idempotencyKey: key, email: 'i@example.com' },
          auth,
        ),
      ),
    );
    const ids = new Set(results.map((result) => result.order?.id));
    expect(ids.size).toBe(1);
    const [orderId] = [...ids];
    const [rows] = await h.sql<{ n: number }[]>`select count(*)::int as n from checkout.orders where user_id = ${user}`;
    expect(rows?.n).toBe(1);
    expect(await stockLedger(h.sql, ticketTypeId)).toMatchObject({ booked: 4, held: 4 });
    expect((await h.orderEventsOf(orderId!)).map((e) => e.eventType)).toEqual([
      OrderEventType.ORDER_EVENT_TYPE_CREATED,
    ]);

    // Later repeats answer the same order; the same key with another email is another request.
    const later = await h.checkout.placeOrder({ userId: user, idempotencyKey: key, email: 'i@example.com' }, auth);
    expect(later.order?.id).toBe(orderId);
    expect(
      await outcome(h.checkout.placeOrder({ userId: user, idempotencyKey: key, email: 'other@example.com' }, auth)),
    ).toMatch(/^ALREADY_EXISTS: .*idempotency_key/);
    // The same key of another user is another order.
    const stranger = await buyerWith(ticketTypeId, 1);
    const theirs = await h.checkout.placeOrder(
      { userId: stranger.user, idempotencyKey: key, email: 'i@example.com' },
      stranger.auth,
    );
    expect(theirs.order?.id).not.toBe(orderId);
  });

  it('answers FAILED_PRECONDITION for an empty cart', async () => {
    const user = newUser();
    expect(
      await outcome(
        h.checkout.placeOrder({ userId: user, idempotencyKey: 'k1', email: 'e@example.com' }, await h.as(user)),
      ),
    ).toMatch(/^FAILED_PRECONDITION: the cart is empty/);
  });

  it('refuses with FAILED_PRECONDITION a cart line whose ticket type the event service no longer knows', async () => {
    const user = newUser();
    const gone = randomUUID();
    await h.sql`insert into checkout.cart_items
      (user_id, ticket_type_id, event_id, ticket_type_name, unit_price_minor, currency, quantity)
      values (${user}, ${gone}, ${randomUUID()}, 'Gone', 100, 'EUR', 1)`;
    expect(
      await outcome(
        h.checkout.placeOrder({ userId: user, idempotencyKey: 'k', email: 'g@example.com' }, await h.as(user)),
      ),
    ).toBe(`FAILED_PRECONDITION: ticket type ${gone} not found: remove it from the cart`);
  });

  it('holds nothing when one item is sold out: RESOURCE_EXHAUSTED with the seats left, no order, the cart kept', async () => {
    const event = await h.createEvent([
      { name: 'Plenty', priceMinor: 1_000, seats: 100 },
      { name: 'Scarce', priceMinor: 5_000, seats: 2 },
    ]);
    const [plenty, scarce] = event.ticketTypes;
    const { user, auth } = await buyerWith(plenty!.id, 5);
    await h.checkout.addToCart({ userId: user, ticketTypeId: scarce!.id, quantity: 3 }, auth);
    const key = randomUUID();
    const first = await outcome(
      h.checkout.placeOrder({ userId: user, idempotencyKey: key, email: 'f@example.com' }, auth),
    );
    expect(first).toMatch(/^RESOURCE_EXHAUSTED: Scarce: not enough seats: asked for 3, 2 left/);
    expect(await stockLedger(h.sql, plenty!.id)).toMatchObject({ booked: 0, held: 0 });
    expect(await stockLedger(h.sql, scarce!.id)).toMatchObject({ booked: 0 });
    expect((await h.checkout.getUserCart({ userId: user }, auth)).cart?.items).toHaveLength(2);

    // The same key tries again and is refused again. The buyer never got seats: no order in their history, no
    // event (so no "order failed" email), and the seats held for Plenty went back each time.
    expect(
      await outcome(h.checkout.placeOrder({ userId: user, idempotencyKey: key, email: 'f@example.com' }, auth)),
    ).toBe(first);
    const { orders } = await h.checkout.listOrders({ userId: user, pageSize: 0, pageToken: '' }, auth);
    expect(orders).toEqual([]);
    expect(await h.sql`select 1 from checkout.outbox where key = ${orderIdFor(user, key)}`).toHaveLength(0);
    expect(await stockLedger(h.sql, plenty!.id)).toMatchObject({ booked: 0, held: 0 });

    // With what is left, a new key succeeds.
    await h.checkout.updateCart({ userId: user, ticketTypeId: scarce!.id, quantity: 2 }, auth);
    const placed = await h.checkout.placeOrder(
      { userId: user, idempotencyKey: randomUUID(), email: 'f@example.com' },
      auth,
    );
    expect(placed.order?.total).toEqual({ amountMinor: 5 * 1_000 + 2 * 5_000, currency: 'EUR' });
    expect(await stockLedger(h.sql, scarce!.id)).toMatchObject({ booked: 2, held: 2 });
  });
});

describe('cart', () => {
  it('adds to the line, counts concurrent adds, keeps the per-order limit and one currency', async () => {
    const event = await h.createEvent([
      { name: 'A', priceMinor: 1_000, seats: 100 },
      { name: 'B', priceMinor: 2_000, seats: 100 },
    ]);
    const usd = await h.createEvent([{ name: 'Dollar', priceMinor: 3_000, currency: 'USD', seats: 10 }]);
    const [a, b] = event.ticketTypes;
    const user = newUser();
    const auth = await h.as(user);
    await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        h.checkout.addToCart({ userId: user, ticketTypeId: i % 2 ? a!.id : b!.id, quantity: 2 }, auth),
      ),
    );
    const { cart } = await h.checkout.getUserCart({ userId: user }, auth);
    expect(cart?.items.map((item) => item.quantity).reduce((x, y) => x + y)).toBe(8);

    // 8 + 3 > 10 (MAX_SEATS_PER_ORDER), however the adds interleave.
    const over = await Promise.all([
      outcome(h.checkout.addToCart({ userId: user, ticketTypeId: a!.id, quantity: 2 }, auth)),
      outcome(h.checkout.addToCart({ userId: user, ticketTypeId: b!.id, quantity: 1 }, auth)),
    ]);
    expect(over.filter((result) => result === 'OK')).toHaveLength(1);
    expect(over.find((result) => result !== 'OK')).toMatch(/^FAILED_PRECONDITION: quantity: .*more than the 10/);

    expect(
      await outcome(h.checkout.addToCart({ userId: user, ticketTypeId: usd.ticketTypes[0]!.id, quantity: 1 }, auth)),
    ).toMatch(/^FAILED_PRECONDITION: .*USD.*EUR/);
    expect(await statusOf(h.checkout.addToCart({ userId: user, ticketTypeId: randomUUID(), quantity: 1 }, auth))).toBe(
      'NOT_FOUND',
    );

    await h.checkout.updateCart({ userId: user, ticketTypeId: a!.id, quantity: 1 }, auth);
    await h.checkout.updateCart({ userId: user, ticketTypeId: a!.id, quantity: 1 }, auth);
    const removed = await h.checkout.updateCart({ userId: user, ticketTypeId: b!.id, quantity: 0 }, auth);
    expect(removed.cart?.items.map((item) => [item.ticketTypeName, item.quantity])).toEqual([['A', 1]]);
    expect(removed.cart?.total).toEqual({ amountMinor: 1_000, currency: 'EUR' });
    expect(await statusOf(h.checkout.updateCart({ userId: user, ticketTypeId: a!.id, quantity: 11 }, auth))).toBe(
      'INVALID_ARGUMENT',
    );
    // Emptied, the cart takes another currency.
    await h.checkout.updateCart({ userId: user, ticketTypeId: a!.id, quantity: 0 }, auth);
    expect(
      await statusOf(h.checkout.addToCart({ userId: user, ticketTypeId: usd.ticketTypes[0]!.id, quantity: 1 }, auth)),
    ).toBe('OK');
  });
});

describe('reading orders', () => {
  it('lists a user’s orders newest first, page by page, and hides them from other users', async () => {
    const event = await h.createEvent([{ name: 'GA', priceMinor: 700, seats: 100 }]);
    const ticketTypeId = event.ticketTypes[0]!.id;
    const user = newUser();
    const auth = await h.as(user);
    const placed: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      await h.checkout.addToCart({ userId: user, ticketTypeId, quantity: 1 }, auth);
      const { order } = await h.checkout.placeOrder(
        { userId: user, idempotencyKey: `k${i}`, email: 'l@example.com' },
        auth,
      );
      placed.push(order!.id);
    }
    const seen: string[] = [];
    let pageToken = '';
    let pages = 0;
    do {
      const page = await h.checkout.listOrders({ userId: user, pageSize: 2, pageToken }, auth);
      seen.push(...page.orders.map((order) => order.id));
      for (const order of page.orders) expect(order.items).toHaveLength(1);
      pageToken = page.nextPageToken;
      pages += 1;
    } while (pageToken !== '');
    expect(pages).toBe(3);
    expect(seen).toEqual([...placed].reverse());

    const stranger = newUser();
    const strangerAuth = await h.as(stranger);
    expect(await statusOf(h.checkout.getOrder({ userId: stranger, orderId: placed[0]! }, strangerAuth))).toBe(
      'NOT_FOUND',
    );
    expect(await statusOf(h.checkout.cancelOrder({ userId: stranger, orderId: placed[0]! }, strangerAuth))).toBe(
      'NOT_FOUND',
    );
    expect(
      (await h.checkout.listOrders({ userId: stranger, pageSize: 0, pageToken: '' }, strangerAuth)).orders,
    ).toEqual([]);
    expect((await h.checkout.getOrder({ userId: user, orderId: placed[0]! }, auth)).order?.id).toBe(placed[0]);
  });
});
