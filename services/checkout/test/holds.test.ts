import { randomUUID } from 'node:crypto';
import { OrderStatus } from '@ticket/contracts/v1/checkout/checkout_service';
import { resourceExhausted } from '@ticket/platform';
import { ClientError, Status } from 'nice-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Booking's own sweep, run when the test says so.
import { releaseLapsedHolds } from '../../booking/src/app/release-lapsed-holds.ts';
import type { CheckoutContext, HoldOutcome, HoldRequest } from '../src/app/context.ts';
import { checkOverdueOrders } from '../src/app/expire-orders.ts';
import { placeOrder } from '../src/app/place-order.ts';
import { SoldOutMemo } from '../src/app/sold-out-memo.ts';
import { rememberTicketTypes } from '../src/app/ticket-type-memo.ts';
import { createEventCatalog } from '../src/clients/event-catalog.ts';
import { orderIdFor } from '../src/domain/order.ts';
import { type CheckoutHarness, eventually, logger, outcome, startCheckoutHarness, stockLedger } from './harness.ts';

// Which holds an order's seats end up in, when attempts of PlaceOrder overlap, fail halfway or see the cart change.
// Some attempts run the use case on a replica's context whose booking client misbehaves for one ticket type (a
// timeout, a refusal, a pause); everything else is the real booking service over gRPC.

let h: CheckoutHarness;
beforeAll(async () => {
  h = await startCheckoutHarness();
  await h.addCheckoutReplica();
});
afterAll(() => h?.close());

const context = () => h.checkouts[0]!.context;

/** The replica's context, with `hold` of one ticket type replaced by `hold(request, real)`. */
function withHold(
  ticketTypeId: string,
  hold: (request: HoldRequest, real: (request: HoldRequest) => Promise<HoldOutcome>) => Promise<HoldOutcome>,
): CheckoutContext {
  const base = context();
  const real = (request: HoldRequest) => base.seats.hold(request);
  return {
    ...base,
    seats: {
      ...base.seats,
      hold: (request, signal) =>
        request.ticketTypeId === ticketTypeId ? hold(request, real) : base.seats.hold(request, signal),
    },
  };
}

/** A pause: `reached` once a call waits at it, which goes on when the test calls `open`. */
function pause() {
  const reached = Promise.withResolvers<void>();
  const gate = Promise.withResolvers<void>();
  return {
    reached: reached.promise,
    open: () => gate.resolve(),
    wait: () => {
      reached.resolve();
      return gate.promise;
    },
  };
}

const deadlineExceeded = () =>
  new ClientError('/ticket.booking.v1.BookingService/CreateBooking', Status.DEADLINE_EXCEEDED, 'Deadline exceeded');

async function buyer(lines: ReadonlyArray<readonly [string, number]>) {
  const user = `user-${randomUUID()}`;
  const auth = await h.as(user);
  for (const [ticketTypeId, quantity] of lines)
    await h.checkout.addToCart({ userId: user, ticketTypeId, quantity }, auth);
  return { user, auth };
}

const orderStatus = async (orderId: string) =>
  (await h.sql<{ status: string }[]>`select status from checkout.orders where id = ${orderId}`)[0]?.status;

const settled = async (promise: Promise<unknown>) => {
  try {
    await promise;
    return 'OK';
  } catch (error) {
    return `${(error as { kind?: string }).kind ?? 'error'}: ${(error as Error).message}`;
  }
};

describe('a hold left by an earlier attempt of the same key', () => {
  it('is never sold with an order that does not contain it: the retry fails, both holds go back, a new key buys exactly the cart', async () => {
    const event = await h.createEvent([
      { name: 'A', priceMinor: 1_000, seats: 10 },
      { name: 'B', priceMinor: 2_000, seats: 10 },
    ]);
    const [a, b] = event.ticketTypes;
    const { user, auth } = await buyer([
      [a!.id, 2],
      [b!.id, 1],
    ]);
    const key = randomUUID();
    // First attempt: A is held, the call for B times out (UNAVAILABLE to the caller, nothing recorded).
    const first = placeOrder(
      withHold(b!.id, () => Promise.reject(deadlineExceeded())),
      { userId: user, idempotencyKey: key, email: 'k@example.com' },
    );
    await expect(first).rejects.toThrow(/Deadline exceeded/);
    expect(await stockLedger(h.sql, a!.id)).toMatchObject({ booked: 2, held: 2 });

    // The buyer drops A and retries with the same key (same order id): booking could only sell A with it.
    await h.checkout.updateCart({ userId: user, ticketTypeId: a!.id, quantity: 0 }, auth);
    const retry = await outcome(
      h.checkout.placeOrder({ userId: user, idempotencyKey: key, email: 'k@example.com' }, auth),
    );
    expect(retry).toMatch(/^FAILED_PRECONDITION: the cart changed/);
    expect(await stockLedger(h.sql, a!.id)).toMatchObject({ booked: 0, held: 0, sold: 0 });
    expect(await stockLedger(h.sql, b!.id)).toMatchObject({ booked: 0, held: 0, sold: 0 });
    expect(
      await outcome(h.checkout.placeOrder({ userId: user, idempotencyKey: key, email: 'k@example.com' }, auth)),
    ).toBe(retry);

    // A new key buys what the cart holds, and booking sells nothing else.
    const { order } = await h.checkout.placeOrder(
      { userId: user, idempotencyKey: randomUUID(), email: 'k@example.com' },
      auth,
    );
    const paid = await h.checkout.markOrderAsPaid(
      { userId: user, orderId: order!.id, paymentReference: 'pay', idempotencyKey: 'pay' },
      await h.asAdmin(),
    );
    expect(paid.order?.tickets.map((ticket) => ticket.ticketTypeId)).toEqual([b!.id]);
    expect(await stockLedger(h.sql, a!.id)).toMatchObject({ booked: 0, sold: 0 });
    expect(await stockLedger(h.sql, b!.id)).toMatchObject({ booked: 1, sold: 1 });
  });

  it('does not expire the order when only a stray booking under its id expires; its own hold does', async () => {
    const event = await h.createEvent([
      { name: 'Mine', priceMinor: 1_000, seats: 10 },
      { name: 'Stray', priceMinor: 1_000, seats: 10 },
    ]);
    const [mine, stray] = event.ticketTypes;
    const { user, auth } = await buyer([[mine!.id, 1]]);
    const { order } = await h.checkout.placeOrder(
      { userId: user, idempotencyKey: randomUUID(), email: 's@example.com' },
      auth,
    );
    const { booking } = await h.bookings.createBooking({
      orderId: order!.id,
      userId: user,
      eventId: event.id,
      ticketTypeId: stray!.id,
      seats: 1,
      idempotencyKey: randomUUID(),
    });
    const sweep = async (bookingId: string) => {
      await h.sql`update booking.bookings set expires_at = now() - interval '1 second' where id = ${bookingId}`;
      const before = (
        await h.sql<{ event_id: string }[]>`select event_id from booking.outbox where key = ${order!.id}`
      ).map((row) => row.event_id);
      expect(await releaseLapsedHolds(h.booking.context)).toBe(1);
      const [row] = await h.sql<{ event_id: string }[]>`
        select event_id from booking.outbox where key = ${order!.id} and not (event_id = any(${before}::uuid[]))`;
      // Wait until checkout's consumer has handled booking's event.
      await eventually(
        async () =>
          (await h.sql`select 1 from checkout.processed_events where event_id = ${row!.event_id}`).length > 0
            ? true
            : undefined,
        30_000,
        'the BookingsExpired event to be processed',
      );
    };
    await sweep(booking!.id);
    expect(await orderStatus(order!.id)).toBe('CREATED');

    const [own] = await h.sql<{ booking_id: string }[]>`
      select booking_id from checkout.order_items where order_id = ${order!.id}`;
    await sweep(own!.booking_id);
    expect(await orderStatus(order!.id)).toBe('EXPIRED');
  });
});

describe('one cart, several keys at once', () => {
  it('makes one order of a cart placed concurrently with different keys; the others hold nothing', async () => {
    const event = await h.createEvent([{ name: 'GA', priceMinor: 1_000, seats: 50 }]);
    const ticketTypeId = event.ticketTypes[0]!.id;
    const { user, auth } = await buyer([[ticketTypeId, 2]]);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        outcome(
          h.checkoutClients[i % 2]!.placeOrder(
            { userId: user, idempotencyKey: `click-${i}`, email: 'd@example.com' },
            auth,
          ),
        ),
      ),
    );
    expect(results.filter((result) => result === 'OK')).toHaveLength(1);
    for (const result of results.filter((r) => r !== 'OK')) {
      expect(result).toMatch(/^FAILED_PRECONDITION: (the cart changed|the cart is empty)/);
    }
    const rows = await h.sql<{ status: string }[]>`
      select status from checkout.orders where user_id = ${user} and status = 'CREATED'`;
    expect(rows).toHaveLength(1);
    expect(await stockLedger(h.sql, ticketTypeId)).toMatchObject({ booked: 2, held: 2 });
  });

  it('records FAILED "the cart changed" for a placement whose cart another key took while it was holding', async () => {
    const event = await h.createEvent([{ name: 'GA', priceMinor: 1_000, seats: 50 }]);
    const ticketTypeId = event.ticketTypes[0]!.id;
    const { user, auth } = await buyer([[ticketTypeId, 2]]);
    const paused = pause();
    const slow = placeOrder(
      withHold(ticketTypeId, async (request, real) => {
        await paused.wait();
        return real(request);
      }),
      { userId: user, idempotencyKey: 'slow', email: 'd@example.com' },
    );
    await paused.reached;
    const fast = await h.checkout.placeOrder({ userId: user, idempotencyKey: 'fast', email: 'd@example.com' }, auth);
    paused.open();
    expect(await settled(slow)).toMatch(/^failed_precondition: the cart changed/);
    const orders = await h.sql<{ idempotency_key: string; status: string; failure_reason: string | null }[]>`
      select idempotency_key, status, failure_reason from checkout.orders where user_id = ${user}
      order by idempotency_key`;
    expect(orders).toEqual([
      { idempotency_key: 'fast', status: 'CREATED', failure_reason: null },
      { idempotency_key: 'slow', status: 'FAILED', failure_reason: expect.stringMatching(/^the cart changed/) },
    ]);
    expect(fast.order?.status).toBe(OrderStatus.ORDER_STATUS_CREATED);
    expect(await stockLedger(h.sql, ticketTypeId)).toMatchObject({ booked: 2, held: 2 });
  });
});

describe('compensation of a refused hold', () => {
  it('releases a hold whose answer was lost (booking made it, the call timed out) when another hold is refused', async () => {
    const event = await h.createEvent([
      { name: 'Plenty', priceMinor: 1_000, seats: 100 },
      { name: 'Scarce', priceMinor: 1_000, seats: 1 },
    ]);
    const [plenty, scarce] = event.ticketTypes;
    const { user } = await buyer([
      [plenty!.id, 3],
      [scarce!.id, 2],
    ]);
    const result = await settled(
      placeOrder(
        withHold(plenty!.id, async (request, real) => {
          await real(request);
          throw deadlineExceeded();
        }),
        { userId: user, idempotencyKey: randomUUID(), email: 'c@example.com' },
      ),
    );
    expect(result).toMatch(/^resource_exhausted: Scarce: not enough seats/);
    expect(await stockLedger(h.sql, plenty!.id)).toMatchObject({ booked: 0, held: 0 });
  });

  it('never releases the holds of an order a concurrent call with the same key committed', async () => {
    const event = await h.createEvent([
      { name: 'A', priceMinor: 1_000, seats: 10 },
      { name: 'B', priceMinor: 1_000, seats: 10 },
    ]);
    const [a, b] = event.ticketTypes;
    const { user, auth } = await buyer([
      [a!.id, 1],
      [b!.id, 1],
    ]);
    const key = randomUUID();
    // This call holds A, and is refused B while B's seats were briefly all taken.
    const paused = pause();
    const refused = placeOrder(
      withHold(b!.id, async () => {
        await paused.wait();
        return { refused: resourceExhausted('B: not enough seats: asked for 1, 0 left') };
      }),
      { userId: user, idempotencyKey: key, email: 'r@example.com' },
    );
    await paused.reached;
    // Meanwhile a retry of the same key holds both (the same holds) and commits the order.
    const { order } = await h.checkout.placeOrder({ userId: user, idempotencyKey: key, email: 'r@example.com' }, auth);
    paused.open();
    // The refused call answers the order that exists, and leaves its holds alone.
    expect(await settled(refused)).toBe('OK');
    expect(await stockLedger(h.sql, a!.id)).toMatchObject({ booked: 1, held: 1 });
    const paid = await h.checkout.markOrderAsPaid(
      { userId: user, orderId: order!.id, paymentReference: 'pay', idempotencyKey: 'pay' },
      await h.asAdmin(),
    );
    expect(paid.order?.tickets).toHaveLength(2);
  });

  it('gives back a hold it made after a concurrent call of the key was refused and released its holds', async () => {
    const event = await h.createEvent([
      { name: 'A', priceMinor: 1_000, seats: 10 },
      { name: 'Scarce', priceMinor: 1_000, seats: 1 },
    ]);
    const [a, scarce] = event.ticketTypes;
    const { user, auth } = await buyer([
      [a!.id, 1],
      [scarce!.id, 2],
    ]);
    const key = randomUUID();
    // This call read the cart with A and is slow to hold it.
    const paused = pause();
    const late = placeOrder(
      withHold(a!.id, async (request, real) => {
        await paused.wait();
        return real(request);
      }),
      { userId: user, idempotencyKey: key, email: 'l@example.com' },
    );
    await paused.reached;
    // Meanwhile the buyer drops A and retries the key: Scarce is refused, no order recorded, nothing left held.
    await h.checkout.updateCart({ userId: user, ticketTypeId: a!.id, quantity: 0 }, auth);
    const refusal = await outcome(
      h.checkout.placeOrder({ userId: user, idempotencyKey: key, email: 'l@example.com' }, auth),
    );
    expect(refusal).toMatch(/^RESOURCE_EXHAUSTED: Scarce: not enough seats/);
    // The slow call's hold of A lands after that: Scarce is refused to it too, and it gives A back.
    paused.open();
    expect(await settled(late)).toMatch(/^resource_exhausted: Scarce: not enough seats/);
    expect(await stockLedger(h.sql, a!.id)).toMatchObject({ booked: 0, held: 0 });
    expect(await orderStatus(orderIdFor(user, key))).toBeUndefined();
  });
});

describe('the overdue check', () => {
  it('gets to every overdue order in turn, even when older ones it cannot settle fill its batch', async () => {
    const event = await h.createEvent([{ name: 'GA', priceMinor: 1_000, seats: 20 }]);
    const ticketTypeId = event.ticketTypes[0]!.id;
    const place = async () => {
      const { user, auth } = await buyer([[ticketTypeId, 1]]);
      const { order } = await h.checkout.placeOrder(
        { userId: user, idempotencyKey: randomUUID(), email: 'o@example.com' },
        auth,
      );
      return order!.id;
    };
    // Two orders sold in booking with no payment recorded: the check leaves them to an operator, every time.
    const stuck = [await place(), await place()];
    for (const id of stuck) await h.bookings.deleteOrderBookings({ orderId: id });
    await h.sql`update checkout.orders set expires_at = now() - interval '1 hour' where id = any(${stuck}::uuid[])`;
    const newer = await place();
    await h.sql`update checkout.orders set expires_at = now() - interval '1 minute' where id = ${newer}`;

    const base = context();
    const small: CheckoutContext = { ...base, config: { ...base.config, EXPIRY_CHECK_BATCH_SIZE: 2 } };
    expect(await checkOverdueOrders(small)).toEqual({ expired: 0, paid: 0, skipped: 2 });
    expect(await checkOverdueOrders(small)).toMatchObject({ expired: 1 });
    expect(await orderStatus(newer)).toBe('EXPIRED');
    expect(await stockLedger(h.sql, ticketTypeId)).toMatchObject({ booked: 2, held: 0, sold: 2 });
  });
});

describe('the sold-out memo', () => {
  /** The first replica's context with its own memo on a clock the test moves, counting the holds asked of booking. */
  function memoContext() {
    const clock = { now: 0 };
    let holdsAsked = 0;
    const base = context();
    const counted: CheckoutContext = {
      ...base,
      soldOut: new SoldOutMemo(1_000, () => clock.now),
      seats: {
        ...base.seats,
        hold: (request, signal) => {
          holdsAsked += 1;
          return base.seats.hold(request, signal);
        },
      },
    };
    return { context: counted, clock, holdsAsked: () => holdsAsked };
  }

  const place = (memo: ReturnType<typeof memoContext>, user: string) =>
    settled(placeOrder(memo.context, { userId: user, idempotencyKey: randomUUID(), email: 'm@example.com' }));

  it('answers as many seats as booking just refused without asking booking; fewer still go to booking', async () => {
    const event = await h.createEvent([{ name: 'Last', priceMinor: 1_000, seats: 3 }]);
    const ticketTypeId = event.ticketTypes[0]!.id;
    const memo = memoContext();
    const first = await buyer([[ticketTypeId, 2]]);
    expect(await place(memo, first.user)).toBe('OK');

    const refused = await buyer([[ticketTypeId, 2]]);
    expect(await place(memo, refused.user)).toBe('resource_exhausted: Last: not enough seats: asked for 2, 1 left');
    expect(memo.holdsAsked()).toBe(2);

    // The same ask and a bigger one are answered from the memo: booking is not asked.
    const same = await buyer([[ticketTypeId, 2]]);
    expect(await place(memo, same.user)).toBe('resource_exhausted: Last: not enough seats: asked for 2, 1 left');
    const bigger = await buyer([[ticketTypeId, 3]]);
    expect(await place(memo, bigger.user)).toBe(
      'resource_exhausted: Last: not enough seats: asked for 3, fewer than 2 left',
    );
    expect(memo.holdsAsked()).toBe(2);

    // A smaller ask may still fit: booking decides, and sells the last seat.
    const smaller = await buyer([[ticketTypeId, 1]]);
    expect(await place(memo, smaller.user)).toBe('OK');
    expect(memo.holdsAsked()).toBe(3);
    expect(await stockLedger(h.sql, ticketTypeId)).toMatchObject({ total: 3, booked: 3 });
  });

  it('asks booking again once the moment is over, and a seat that came back meanwhile is sold', async () => {
    const event = await h.createEvent([{ name: 'Returned', priceMinor: 1_000, seats: 1 }]);
    const ticketTypeId = event.ticketTypes[0]!.id;
    const memo = memoContext();
    const holder = await buyer([[ticketTypeId, 1]]);
    const { order } = await h.checkout.placeOrder(
      { userId: holder.user, idempotencyKey: randomUUID(), email: 'm@example.com' },
      holder.auth,
    );
    const waiting = await buyer([[ticketTypeId, 1]]);
    expect(await place(memo, waiting.user)).toMatch(/^resource_exhausted: Returned: not enough seats/);

    // The holder cancels: the seat is back in booking, but within the moment the memo still answers.
    await h.checkout.cancelOrder({ userId: holder.user, orderId: order!.id }, holder.auth);
    expect(await place(memo, waiting.user)).toMatch(/^resource_exhausted: Returned: not enough seats/);
    expect(memo.holdsAsked()).toBe(1);

    memo.clock.now += 1_000;
    expect(await place(memo, waiting.user)).toBe('OK');
    expect(memo.holdsAsked()).toBe(2);
  });
});

describe('the ticket-type memo', () => {
  /** The real event service's catalog behind a memo on a clock the test moves, counting the calls that reach event. */
  function memoCatalog() {
    const clock = { now: 0 };
    const event = createEventCatalog(`127.0.0.1:${h.event.port}`, 5_000, logger);
    const asked: string[] = [];
    const counted = {
      ...event,
      getTicketType: (id: string, signal?: AbortSignal) => {
        asked.push(id);
        return event.getTicketType(id, signal);
      },
    };
    return { catalog: rememberTicketTypes(counted, 1_000, () => clock.now), clock, asked, close: event.close };
  }

  it('answers a ticket type from the memo within the window, from event after it; concurrent asks share one call', async () => {
    const event = await h.createEvent([{ name: 'Front row', priceMinor: 4_200, seats: 5 }]);
    const id = event.ticketTypes[0]!.id;
    const memo = memoCatalog();
    try {
      const answers = await Promise.all(Array.from({ length: 8 }, () => memo.catalog.getTicketType(id)));
      expect(new Set(answers.map((t) => `${t.name} ${t.priceMinor} ${t.currency}`))).toEqual(
        new Set(['Front row 4200 EUR']),
      );
      memo.clock.now += 999;
      await memo.catalog.getTicketType(id);
      expect(memo.asked).toEqual([id]);
      memo.clock.now += 1;
      await memo.catalog.getTicketType(id);
      expect(memo.asked).toEqual([id, id]);
    } finally {
      memo.close();
    }
  });

  it('does not remember a ticket type event does not know: each ask hears NOT_FOUND from event', async () => {
    const memo = memoCatalog();
    const unknown = randomUUID();
    try {
      for (let attempt = 0; attempt < 2; attempt += 1) {
        await expect(memo.catalog.getTicketType(unknown)).rejects.toMatchObject({ kind: 'not_found' });
      }
      expect(memo.asked).toEqual([unknown, unknown]);
    } finally {
      memo.close();
    }
  });
});
