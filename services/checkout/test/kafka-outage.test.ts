import { randomUUID } from 'node:crypto';
import { OrderStatus } from '@ticket/contracts/v1/checkout/checkout_service';
import { OrderEventType } from '@ticket/contracts/v1/checkout/order_events';
import { type KafkaBroker, startKafkaBroker } from '@ticket/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CheckoutHarness, eventually, startCheckoutHarness } from './harness.ts';

// A broker of this test's own, so stopping it leaves the other test files' Kafka alone.
let broker: KafkaBroker;
let h: CheckoutHarness;
beforeAll(async () => {
  broker = await startKafkaBroker();
  h = await startCheckoutHarness({ brokers: broker.brokers });
}, 180_000);
afterAll(async () => {
  await h?.close();
  await broker?.destroy();
}, 120_000);

async function placeAndPay(ticketTypeId: string) {
  const user = `user-${randomUUID()}`;
  const auth = await h.as(user);
  await h.checkout.addToCart({ userId: user, ticketTypeId, quantity: 1 }, auth);
  const started = performance.now();
  const { order } = await h.checkout.placeOrder(
    { userId: user, idempotencyKey: randomUUID(), email: 'k@example.com' },
    auth,
  );
  const { order: paid } = await h.checkout.markOrderAsPaid(
    { userId: user, orderId: order!.id, paymentReference: `pay-${order!.id}`, idempotencyKey: 'pay' },
    await h.asAdmin(),
  );
  expect(paid?.status).toBe(OrderStatus.ORDER_STATUS_PAID);
  return { orderId: order!.id, ms: performance.now() - started };
}

describe('Kafka outage', () => {
  it('places and pays orders while Kafka is down, and publishes every event once it is back', async () => {
    const event = await h.createEvent([{ name: 'GA', priceMinor: 1_200, seats: 100 }]);
    const ticketTypeId = event.ticketTypes[0]!.id;
    const before = await placeAndPay(ticketTypeId);
    // The relay has connected and published: the outage starts from a working pipeline.
    expect((await h.orderEventsOf(before.orderId)).length).toBe(2);

    await broker.stop();
    const during: Array<{ orderId: string; ms: number }> = [];
    for (let i = 0; i < 5; i += 1) during.push(await placeAndPay(ticketTypeId));
    // Kafka down neither fails nor blocks an order: no call waits for the broker.
    for (const { ms } of during) expect(ms).toBeLessThan(5_000);
    const [pending] = await h.sql<{ n: number }[]>`
      select count(*)::int as n from checkout.outbox where published_at is null`;
    expect(pending?.n).toBe(10);

    await broker.restart();
    const all = await h.readOrderEvents(12, 90_000);
    for (const { orderId } of [before, ...during]) {
      const events = all.filter((message) => message.key === orderId).map((message) => message.event);
      expect(events.map((e) => e.eventType)).toEqual([
        OrderEventType.ORDER_EVENT_TYPE_CREATED,
        OrderEventType.ORDER_EVENT_TYPE_PAID,
      ]);
      expect(events[1]?.order?.tickets).toHaveLength(1);
    }
    expect(new Set(all.map((message) => message.event.eventId)).size).toBe(12);
    // The relay marks rows published once the broker acknowledged them, which can trail the read above.
    await eventually(
      async () => {
        const [unpublished] = await h.sql<{ n: number }[]>`
        select count(*)::int as n from checkout.outbox where published_at is null`;
        return unpublished?.n === 0 ? true : undefined;
      },
      60_000,
      'every outbox row marked published',
    );
  }, 180_000);
});
