import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { OrderStatus } from '@ticket/contracts/v1/checkout/checkout_service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkOverdueOrders } from '../src/app/expire-orders.ts';
import { orderIdFor } from '../src/domain/order.ts';
import { type CheckoutHarness, outcome, startCheckoutHarness, stockLedger } from './harness.ts';

let h: CheckoutHarness;
beforeAll(async () => {
  h = await startCheckoutHarness();
  await h.addCheckoutReplica();
});
afterAll(() => h?.close());

const replica = (i: number) => h.checkoutClients[i % h.checkoutClients.length]!;
const statusName = (result: string) => result.split(':')[0];
/** How long after the payment each order's cancellation starts, by order index. */
const CANCEL_DELAYS_MS = [0, 5, 10, 25, 100, 250] as const;

/** Order status per order id, and the statuses of each order's bookings in booking. */
async function statesOf(orderIds: readonly string[]) {
  const orders = await h.sql<{ id: string; status: string }[]>`
    select id, status from checkout.orders where id = any(${orderIds}::uuid[])`;
  const bookings = await h.sql<{ order_id: string; status: string }[]>`
    select order_id, status from booking.bookings where order_id = any(${orderIds}::uuid[])`;
  const bookingStatuses = Map.groupBy(bookings, (row) => row.order_id);
  return orders.map((order) => ({
    id: order.id,
    status: order.status,
    bookings: (bookingStatuses.get(order.id) ?? []).map((row) => row.status),
  }));
}

/** Event types written per order (the outbox is what the relay publishes, in this order). */
async function eventTypesOf(orderIds: readonly string[]) {
  const rows = await h.sql<{ key: string; event_type: string }[]>`
    select key, event_type from checkout.outbox where key = any(${orderIds}::text[]) order by id`;
  const byOrder = Map.groupBy(rows, (row) => row.key);
  return new Map(orderIds.map((id) => [id, (byOrder.get(id) ?? []).map((row) => row.event_type.split('.').at(-1))]));
}

describe('races', () => {
  it('refuses the losers of 120 concurrent buyers of 20 seats with RESOURCE_EXHAUSTED and records nothing for them', async () => {
    const event = await h.createEvent([
      { name: 'Plenty', priceMinor: 1_000, seats: 500 },
      { name: 'Scarce', priceMinor: 5_000, seats: 20 },
    ]);
    const [plenty, scarce] = event.ticketTypes;
    // Two lines each, so a loser has usually held Plenty before Scarce is refused: that hold must go back.
    const buyers = await Promise.all(
      Array.from({ length: 120 }, async (_, i) => {
        const user = `rush-${i}-${randomUUID()}`;
        const auth = await h.as(user);
        await replica(i).addToCart({ userId: user, ticketTypeId: plenty!.id, quantity: 1 }, auth);
        await replica(i).addToCart({ userId: user, ticketTypeId: scarce!.id, quantity: 1 }, auth);
        return { user, auth, i, key: `rush-${i}` };
      }),
    );
    const place = ({ user, auth, i, key }: (typeof buyers)[number]) =>
      outcome(replica(i).placeOrder({ userId: user, idempotencyKey: key, email: 'r@example.com' }, auth));
    const results = await Promise.all(buyers.map(place));
    expect(Object.groupBy(results.map(statusName), (status) => status ?? '')).toMatchObject({
      OK: { length: 20 },
      RESOURCE_EXHAUSTED: { length: 100 },
    });
    const losers = buyers.filter((_, i) => results[i] !== 'OK');
    // A loser's repeat of the key tries again and is refused again, still without a trace.
    const repeats = await Promise.all(losers.slice(0, 10).map(place));
    for (const repeat of repeats) expect(repeat).toMatch(/^RESOURCE_EXHAUSTED: Scarce: not enough seats/);

    const loserOrderIds = losers.map(({ user, key }) => orderIdFor(user, key));
    const [recorded] = await h.sql<{ n: number }[]>`
      select count(*)::int as n from checkout.orders where id = any(${loserOrderIds}::uuid[])`;
    expect(recorded?.n).toBe(0);
    const [failed] = await h.sql<{ n: number }[]>`
      select count(*)::int as n from checkout.orders
      where user_id = any(${buyers.map((b) => b.user)}::text[]) and status = 'FAILED'`;
    expect(failed?.n).toBe(0);
    const events = await eventTypesOf(loserOrderIds);
    expect([...events.values()].flat()).toEqual([]);
    // Exactly the winners' seats are held, of both lines; every seat a loser held went back.
    expect(await stockLedger(h.sql, scarce!.id)).toEqual({ total: 20, booked: 20, held: 20, sold: 0, returned: 0 });
    expect(await stockLedger(h.sql, plenty!.id)).toEqual({ total: 500, booked: 20, held: 20, sold: 0, returned: 0 });
    const [loserHolds] = await h.sql<{ n: number }[]>`
      select count(*)::int as n from booking.bookings where order_id = any(${loserOrderIds}::uuid[]) and status = 'HELD'`;
    expect(loserHolds?.n).toBe(0);
    // The losers keep their carts.
    const { cart } = await replica(0).getUserCart({ userId: losers[0]!.user }, losers[0]!.auth);
    expect(cart?.items).toHaveLength(2);
  });

  it('sells 50 seats to exactly 50 of 200 concurrent buyers; the others get RESOURCE_EXHAUSTED', async () => {
    const event = await h.createEvent([{ name: 'Flash sale', priceMinor: 9_900, seats: 50 }]);
    const ticketTypeId = event.ticketTypes[0]!.id;
    const buyers = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const user = `flash-${i}-${randomUUID()}`;
        const auth = await h.as(user);
        await replica(i).addToCart({ userId: user, ticketTypeId, quantity: 1 }, auth);
        return { user, auth, i };
      }),
    );

    const admin = await h.asAdmin();
    const results = await Promise.all(
      buyers.map(async ({ user, auth, i }) => {
        const client = replica(i);
        let orderId: string | undefined;
        try {
          const placed = await client.placeOrder(
            { userId: user, idempotencyKey: `place-${i}`, email: 'f@example.com' },
            auth,
          );
          orderId = placed.order!.id;
          const paid = await client.markOrderAsPaid(
            { userId: user, orderId, paymentReference: `pay-${i}`, idempotencyKey: `pay-${i}` },
            admin,
          );
          return { orderId, result: paid.order?.status === OrderStatus.ORDER_STATUS_PAID ? 'PAID' : 'NOT PAID' };
        } catch (error) {
          return { orderId, result: statusName(await outcome(Promise.reject(error))) };
        }
      }),
    );
    const counts = Object.fromEntries(
      Object.entries(Object.groupBy(results, (r) => r.result ?? '')).map(([k, v]) => [k, v?.length]),
    );
    expect(counts).toEqual({ PAID: 50, RESOURCE_EXHAUSTED: 150 });

    const ledger = await stockLedger(h.sql, ticketTypeId);
    expect(ledger).toEqual({ total: 50, booked: 50, held: 0, sold: 50, returned: 0 });
    const paidIds = results.filter((r) => r.result === 'PAID').map((r) => r.orderId!);
    for (const state of await statesOf(paidIds)) {
      expect(state).toMatchObject({ status: 'PAID', bookings: ['SOLD'] });
    }
    const [paidCount] = await h.sql<{ n: number }[]>`
      select count(*)::int as n from checkout.orders o
      join checkout.order_items i on i.order_id = o.id where i.ticket_type_id = ${ticketTypeId} and o.status = 'PAID'`;
    expect(paidCount?.n).toBe(50);
    const [ticketCount] = await h.sql<{ n: number; codes: number }[]>`
      select count(*)::int as n, count(distinct code)::int as codes from checkout.tickets where ticket_type_id = ${ticketTypeId}`;
    expect(ticketCount).toEqual({ n: 50, codes: 50 });
    // No PAID order without sold seats anywhere.
    const [unsold] = await h.sql<{ n: number }[]>`
      select count(*)::int as n from checkout.orders o where o.status = 'PAID'
        and exists (select 1 from booking.bookings b where b.order_id = o.id and b.status <> 'SOLD')`;
    expect(unsold?.n).toBe(0);
  });

  it('gives each order exactly one outcome when pay, cancel, a second payment and the overdue check race', async () => {
    const event = await h.createEvent([{ name: 'Race', priceMinor: 1_000, seats: 200 }]);
    const ticketTypeId = event.ticketTypes[0]!.id;
    const orders = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const user = `race-${i}-${randomUUID()}`;
        const auth = await h.as(user);
        await h.checkout.addToCart({ userId: user, ticketTypeId, quantity: 2 }, auth);
        const { order } = await h.checkout.placeOrder(
          { userId: user, idempotencyKey: 'k', email: 'r@example.com' },
          auth,
        );
        return { user, auth, i, orderId: order!.id };
      }),
    );
    // A third of the orders also race the overdue check: make them look overdue to checkout.
    const overdue = orders.filter(({ i }) => i % 3 === 0).map(({ orderId }) => orderId);
    await h.sql`update checkout.orders set expires_at = now() - interval '1 minute' where id = any(${overdue}::uuid[])`;

    // The box office pays; the buyer cancels.
    const admin = await h.asAdmin();
    const calls = orders.map(({ user, auth, i, orderId }) => {
      const pay = (key: string) =>
        outcome(
          replica(i + (key === 'b' ? 1 : 0)).markOrderAsPaid(
            { userId: user, orderId, paymentReference: `ref-${key}`, idempotencyKey: key },
            admin,
          ),
        );
      // Cancel gets to booking in fewer steps than payment, so it starts later for most orders: a few ms (a close
      // race) up to a quarter of a second (payment should win unless the machine stalls), so both sides win some.
      const cancel = sleep(CANCEL_DELAYS_MS[i % CANCEL_DELAYS_MS.length]).then(() =>
        outcome(replica(i + 1).cancelOrder({ userId: user, orderId }, auth)),
      );
      return Promise.all([pay('a'), cancel, i % 2 === 0 ? pay('b') : Promise.resolve('skipped')]);
    });
    const sweep = checkOverdueOrders(h.checkouts[1]!.context);
    const answers = await Promise.all(calls);
    await sweep;

    const states = new Map((await statesOf(orders.map((o) => o.orderId))).map((s) => [s.id, s]));
    const events = await eventTypesOf(orders.map((o) => o.orderId));
    const refunds = new Map(
      (
        await h.sql<{ id: string; refund: string | null }[]>`
          select id, refund_payment_reference as refund from checkout.orders where id = any(${orders.map((o) => o.orderId)}::uuid[])`
      ).map((row) => [row.id, row.refund]),
    );
    const attempts = Map.groupBy(
      await h.sql<{ order_id: string; payment_reference: string }[]>`
        select order_id, payment_reference from checkout.payment_attempts
        where order_id = any(${orders.map((o) => o.orderId)}::uuid[])`,
      (row) => row.order_id,
    );
    const attemptsOf = new Map([...attempts].map(([id, rows]) => [id, rows.map((row) => row.payment_reference)]));
    let paid = 0;
    orders.forEach(({ orderId }, index) => {
      const state = states.get(orderId)!;
      const [payA, cancel, payB] = (answers[index] ?? []).map((answer) => statusName(answer));
      const payOks = [payA, payB].filter((answer) => answer === 'OK').length;
      expect(['PAID', 'CANCELLED', 'EXPIRED']).toContain(state.status);
      expect(events.get(orderId)).toEqual([
        'OrderCreated',
        `Order${state.status[0]}${state.status.slice(1).toLowerCase()}`,
      ]);
      if (state.status === 'PAID') {
        paid += 1;
        expect(state.bookings).toEqual(['SOLD']);
        expect(payOks).toBe(1);
        expect(cancel).toBe('FAILED_PRECONDITION');
      } else {
        expect(state.bookings.every((status) => status === 'RELEASED' || status === 'EXPIRED')).toBe(true);
        expect(payOks).toBe(0);
        // Only the overdue check expires an order here: the other holds were live until released.
        if (!overdue.includes(orderId)) expect(state.status).toBe('CANCELLED');
        if (state.status === 'CANCELLED') expect(cancel).toBe('OK');
        // A payment recorded for an order that did not end PAID is named as owed back (order row and its event).
        const recorded = attemptsOf.get(orderId) ?? [];
        if (recorded.length > 0) expect(recorded).toContain(refunds.get(orderId));
        else expect(refunds.get(orderId)).toBeNull();
      }
      for (const answer of [payA, cancel, payB]) expect(['OK', 'FAILED_PRECONDITION', 'skipped']).toContain(answer);
    });
    expect(await stockLedger(h.sql, ticketTypeId)).toEqual({
      total: 200,
      booked: paid * 2,
      held: 0,
      sold: paid * 2,
      returned: 0,
    });
    const outcomes = Object.groupBy([...states.values()], (state) => state.status);
    // The race was real: payment and cancellation each won some orders.
    expect(outcomes.PAID?.length ?? 0).toBeGreaterThan(0);
    expect(outcomes.CANCELLED?.length ?? 0).toBeGreaterThan(0);
    console.log(
      `pay/cancel/overdue race over ${orders.length} orders: ${Object.entries(outcomes)
        .map(([status, list]) => `${list?.length} ${status}`)
        .join(', ')}`,
    );
  });
});
