import { randomUUID } from 'node:crypto';
import { OrderStatus } from '@ticket/contracts/v1/checkout/checkout_service';
import { OrderEventType } from '@ticket/contracts/v1/checkout/order_events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Booking's own sweep, run when the test says so (the spec's "its context + releaseLapsedHolds").
import { releaseLapsedHolds } from '../../booking/src/app/release-lapsed-holds.ts';
import { checkOverdueOrders } from '../src/app/expire-orders.ts';
import { type CheckoutHarness, eventually, outcome, sleep, startCheckoutHarness, stockLedger } from './harness.ts';

let h: CheckoutHarness;
beforeAll(async () => {
  h = await startCheckoutHarness({ booking: { HOLD_TTL_SECONDS: '1' } });
});
afterAll(() => h?.close());

/** A CREATED order of `seats` seats of a fresh ticket type, its holds lapsing one second from now. */
async function placedOrder(seats = 2) {
  const event = await h.createEvent([{ name: 'GA', priceMinor: 1_500, seats: 10 }]);
  const ticketTypeId = event.ticketTypes[0]!.id;
  const user = `user-${randomUUID()}`;
  const auth = await h.as(user);
  await h.checkout.addToCart({ userId: user, ticketTypeId, quantity: seats }, auth);
  const { order } = await h.checkout.placeOrder(
    { userId: user, idempotencyKey: randomUUID(), email: 'x@example.com' },
    auth,
  );
  expect(order?.status).toBe(OrderStatus.ORDER_STATUS_CREATED);
  return { order: order!, user, ticketTypeId };
}

const statusOfOrder = async (orderId: string) => {
  const [row] = await h.sql<{ status: string }[]>`select status from checkout.orders where id = ${orderId}`;
  return row?.status;
};

describe('expiry', () => {
  it('expires the order when booking sweeps its lapsed holds (BookingsExpired over Kafka); seats are back', async () => {
    const { order, user, ticketTypeId } = await placedOrder(3);
    await sleep(1_100);
    expect(await releaseLapsedHolds(h.booking.context)).toBeGreaterThanOrEqual(1);
    await eventually(async () => ((await statusOfOrder(order.id)) === 'EXPIRED' ? true : undefined), 30_000, 'EXPIRED');
    expect(await stockLedger(h.sql, ticketTypeId)).toMatchObject({ booked: 0, held: 0, sold: 0 });
    const events = await h.orderEventsOf(order.id);
    expect(events.map((e) => e.eventType)).toEqual([
      OrderEventType.ORDER_EVENT_TYPE_CREATED,
      OrderEventType.ORDER_EVENT_TYPE_EXPIRED,
    ]);
    expect(events[1]?.refundPaymentReference).toBe('');
    expect(
      await outcome(
        h.checkout.markOrderAsPaid(
          { userId: user, orderId: order.id, paymentReference: 'late', idempotencyKey: 'k' },
          await h.asAdmin(),
        ),
      ),
    ).toMatch(/^FAILED_PRECONDITION: .*expired.*late must be refunded/);
  });

  it('refuses a payment that arrives after the holds lapsed, expiring the order with the refund in its event', async () => {
    const { order, user, ticketTypeId } = await placedOrder(2);
    await sleep(1_100);
    const paid = await outcome(
      h.checkout.markOrderAsPaid(
        { userId: user, orderId: order.id, paymentReference: 'pay-late', idempotencyKey: 'k1' },
        await h.asAdmin(),
      ),
    );
    expect(paid).toMatch(/^FAILED_PRECONDITION: .*pay-late must be refunded/);
    expect(await statusOfOrder(order.id)).toBe('EXPIRED');
    const events = await h.orderEventsOf(order.id);
    expect(events.map((e) => [e.eventType, e.refundPaymentReference])).toEqual([
      [OrderEventType.ORDER_EVENT_TYPE_CREATED, ''],
      [OrderEventType.ORDER_EVENT_TYPE_EXPIRED, 'pay-late'],
    ]);
    // Booking's sweep gives the seats back; no second EXPIRED follows from its event.
    await releaseLapsedHolds(h.booking.context);
    expect(await stockLedger(h.sql, ticketTypeId)).toMatchObject({ booked: 0 });
    const [expiry] = await h.sql<{ event_id: string }[]>`select event_id from booking.outbox where key = ${order.id}`;
    expect(expiry).toBeDefined();
    await eventually(
      async () =>
        (await h.sql`select 1 from checkout.processed_events where event_id = ${expiry!.event_id}`).length > 0
          ? true
          : undefined,
      30_000,
      'checkout to process the BookingsExpired event',
    );
    const [outboxed] = await h.sql<
      { n: number }[]
    >`select count(*)::int as n from checkout.outbox where key = ${order.id}`;
    expect(outboxed?.n).toBe(2);
    expect((await h.orderEventsOf(order.id)).map((e) => e.eventType)).toEqual([
      OrderEventType.ORDER_EVENT_TYPE_CREATED,
      OrderEventType.ORDER_EVENT_TYPE_EXPIRED,
    ]);
  });

  it('expires an overdue order whose expiry event never came (the periodic check), releasing its holds at once', async () => {
    const { order, ticketTypeId } = await placedOrder(2);
    await sleep(1_100);
    const result = await checkOverdueOrders(h.checkouts[0]!.context);
    expect(result.expired).toBeGreaterThanOrEqual(1);
    expect(await statusOfOrder(order.id)).toBe('EXPIRED');
    expect(await stockLedger(h.sql, ticketTypeId)).toMatchObject({ booked: 0, held: 0 });
    expect((await h.orderEventsOf(order.id)).map((e) => e.eventType)).toEqual([
      OrderEventType.ORDER_EVENT_TYPE_CREATED,
      OrderEventType.ORDER_EVENT_TYPE_EXPIRED,
    ]);
  });

  it('completes as PAID, never EXPIRED, an order booking sold whose PAID update was lost (recorded payment)', async () => {
    const { order, ticketTypeId } = await placedOrder(2);
    // What a MarkOrderAsPaid that died right after booking's sale leaves behind.
    await h.sql`insert into checkout.payment_attempts (order_id, idempotency_key, payment_reference)
                values (${order.id}, 'crashed-key', 'crashed-payment')`;
    await h.bookings.deleteOrderBookings({ orderId: order.id });
    await sleep(1_100);
    await releaseLapsedHolds(h.booking.context);
    const result = await checkOverdueOrders(h.checkouts[0]!.context);
    expect(result.paid).toBe(1);
    const { order: paid } = await h.checkout.getOrder(
      { userId: order.userId, orderId: order.id },
      await h.as(order.userId),
    );
    expect(paid).toMatchObject({ status: OrderStatus.ORDER_STATUS_PAID, paymentReference: 'crashed-payment' });
    expect(paid?.tickets).toHaveLength(2);
    expect(await stockLedger(h.sql, ticketTypeId)).toMatchObject({ booked: 2, sold: 2 });
    expect((await h.orderEventsOf(order.id)).map((e) => e.eventType)).toEqual([
      OrderEventType.ORDER_EVENT_TYPE_CREATED,
      OrderEventType.ORDER_EVENT_TYPE_PAID,
    ]);
  });
});
