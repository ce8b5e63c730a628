import { randomUUID } from 'node:crypto';
import { OrderStatus, RefundReason, RefundStatus } from '@ticket/contracts/v1/checkout/checkout_service';
import { OrderEventType } from '@ticket/contracts/v1/checkout/order_events';
import { signSandboxPayload } from '@ticket/payment-sandbox';
import { Role } from '@ticket/platform';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { processDueRefunds } from '../src/app/refunds.ts';
import { type CheckoutHarness, outcome, startCheckoutHarness, stockLedger } from './harness.ts';

// The buyer's path through the sandbox PSP (a real HTTP service with signed, retried webhooks), and refunds.

let h: CheckoutHarness;
beforeAll(async () => {
  h = await startCheckoutHarness();
});
afterAll(() => h?.close());

const WAIT = { timeout: 20_000, interval: 100 };

/** A CREATED order of `quantity` seats at 25.00 EUR, with its payment at the sandbox. */
async function placedOrder(quantity = 2, refundableUntil?: Date) {
  const event = await h.createEvent([{ name: 'General', priceMinor: 2_500, seats: 20 }], { refundableUntil });
  const ticketType = event.ticketTypes[0];
  if (!ticketType) throw new Error('no ticket type');
  const user = `buyer-${randomUUID()}`;
  const auth = await h.as(user);
  await h.checkout.addToCart({ userId: user, ticketTypeId: ticketType.id, quantity }, auth);
  const { order } = await h.checkout.placeOrder(
    { userId: user, idempotencyKey: randomUUID(), email: 'buyer@example.com' },
    auth,
  );
  if (!order?.payment) throw new Error('PlaceOrder answered without a payment');
  return { order, payment: order.payment, user, auth, ticketTypeId: ticketType.id };
}

async function orderOf(user: string, orderId: string) {
  const { order } = await h.checkout.getOrder({ userId: user, orderId }, await h.as(user));
  if (!order) throw new Error('no order');
  return order;
}

async function paidOrder(quantity = 2, refundableUntil?: Date) {
  const placed = await placedOrder(quantity, refundableUntil);
  await h.psp.client.pay(placed.payment.paymentId, { outcome: 'succeed' });
  await vi.waitFor(async () => {
    expect((await orderOf(placed.user, placed.order.id)).status).toBe(OrderStatus.ORDER_STATUS_PAID);
  }, WAIT);
  return { ...placed, order: await orderOf(placed.user, placed.order.id) };
}

/** POSTs a body to checkout's webhook endpoint as the sandbox would, signed with `secret`. */
async function deliver(body: string, secret = h.psp.webhookSecret) {
  const response = await fetch(h.psp.webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'sandbox-signature': signSandboxPayload(body, secret) },
    body,
  });
  return { status: response.status, body: (await response.json()) as { outcome?: string } };
}

/** A sandbox-shaped payment event about `payment`, with its own event id. */
function paymentEvent(type: 'payment.succeeded' | 'payment.failed', payment: Record<string, unknown>) {
  return JSON.stringify({
    id: `evt_${randomUUID()}`,
    object: 'event',
    type,
    created: Math.floor(Date.now() / 1000),
    data: { object: { object: 'payment', status: type === 'payment.succeeded' ? 'succeeded' : 'failed', ...payment } },
  });
}

const eventTypesOf = async (orderId: string) => (await h.orderEventsOf(orderId)).map((event) => event.eventType);

const webhookOutcomes = async (paymentId: string) =>
  (
    await h.sql<{ outcome: string }[]>`
      select outcome from checkout.webhook_events where payment_id = ${paymentId} order by received_at`
  ).map((row) => row.outcome);

describe('paying through the sandbox provider', () => {
  it('gives PlaceOrder a payment to pay; the signed webhook makes the order PAID with its tickets, once', async () => {
    const { order, payment, user } = await placedOrder(2);
    expect(payment).toMatchObject({ provider: 'sandbox', clientSecret: '' });
    expect(payment.payUrl).toBe(`${h.psp.sandbox.url}/pay/${payment.paymentId}`);
    expect(order.status).toBe(OrderStatus.ORDER_STATUS_CREATED);
    expect(await h.psp.client.getPayment(payment.paymentId)).toMatchObject({
      amount_minor: 5_000,
      currency: 'EUR',
      order_id: order.id,
    });

    await h.psp.client.pay(payment.paymentId, { outcome: 'succeed' });
    await vi.waitFor(
      async () => expect((await orderOf(user, order.id)).status).toBe(OrderStatus.ORDER_STATUS_PAID),
      WAIT,
    );
    const paid = await orderOf(user, order.id);
    expect(paid.paymentReference).toBe(payment.paymentId);
    expect(paid.tickets).toHaveLength(2);
    expect(await eventTypesOf(order.id)).toEqual([
      OrderEventType.ORDER_EVENT_TYPE_CREATED,
      OrderEventType.ORDER_EVENT_TYPE_PAID,
    ]);
  });

  it('applies one payment once whatever the deliveries: 5 concurrent redeliveries, then a "failed" after it succeeded', async () => {
    const { order, payment, user } = await paidOrder(1);
    const codes = order.tickets.map((ticket) => ticket.code);
    const [succeeded] = await h.psp.client.listEvents({ paymentId: payment.paymentId });
    if (!succeeded) throw new Error('the sandbox sent no event');
    await Promise.all(Array.from({ length: 5 }, () => h.psp.client.redeliver(succeeded.id)));
    const late = await deliver(
      paymentEvent('payment.failed', {
        id: payment.paymentId,
        order_id: order.id,
        amount_minor: 2_500,
        currency: 'EUR',
        failure_reason: 'card_declined',
      }),
    );
    expect(late).toEqual({ status: 200, body: { received: true, outcome: 'payment_failed' } });
    await vi.waitFor(
      async () => expect((await webhookOutcomes(payment.paymentId)).length).toBeGreaterThanOrEqual(2),
      WAIT,
    );

    const after = await orderOf(user, order.id);
    expect(after.status).toBe(OrderStatus.ORDER_STATUS_PAID);
    expect(after.tickets.map((ticket) => ticket.code)).toEqual(codes);
    expect(after.refunds).toEqual([]);
    const [row] = await h.sql`select status from checkout.payments where id = ${payment.paymentId}`;
    expect(row?.status).toBe('SUCCEEDED');
    expect(await eventTypesOf(order.id)).toEqual([
      OrderEventType.ORDER_EVENT_TYPE_CREATED,
      OrderEventType.ORDER_EVENT_TYPE_PAID,
    ]);
  });

  it('refuses a webhook with a bad signature (400) and changes nothing', async () => {
    const { order, payment, user } = await placedOrder(1);
    const body = paymentEvent('payment.succeeded', {
      id: payment.paymentId,
      order_id: order.id,
      amount_minor: 2_500,
      currency: 'EUR',
    });
    expect((await deliver(body, 'not-the-webhook-secret-at-all')).status).toBe(400);
    const tampered = await fetch(h.psp.webhookUrl, {
      method: 'POST',
      headers: { 'sandbox-signature': signSandboxPayload(body, h.psp.webhookSecret) },
      body: body.replace('2500', '1'),
    });
    expect(tampered.status).toBe(400);
    expect((await orderOf(user, order.id)).status).toBe(OrderStatus.ORDER_STATUS_CREATED);
    expect(await webhookOutcomes(payment.paymentId)).toEqual([]);
  });

  it('does not accept a payment of another amount or currency, and leaves the order unpaid', async () => {
    const { order, payment, user } = await placedOrder(2);
    const short = { id: payment.paymentId, order_id: order.id, amount_minor: 100, currency: 'EUR' };
    expect((await deliver(paymentEvent('payment.succeeded', short))).body.outcome).toBe('amount_mismatch');
    const otherCurrency = { ...short, amount_minor: 5_000, currency: 'USD' };
    expect((await deliver(paymentEvent('payment.succeeded', otherCurrency))).body.outcome).toBe('amount_mismatch');
    expect((await orderOf(user, order.id)).status).toBe(OrderStatus.ORDER_STATUS_CREATED);
    expect(await webhookOutcomes(payment.paymentId)).toEqual(['amount_mismatch', 'amount_mismatch']);
  });

  it('acknowledges a webhook for an unknown payment and records it, so the provider stops', async () => {
    const paymentId = `pay_${randomUUID()}`;
    const unknown = { id: paymentId, order_id: randomUUID(), amount_minor: 100, currency: 'EUR' };
    expect(await deliver(paymentEvent('payment.succeeded', unknown))).toEqual({
      status: 200,
      body: { received: true, outcome: 'unknown_order' },
    });
    expect(await webhookOutcomes(paymentId)).toEqual(['unknown_order']);
  });

  it('keeps a declined order payable (buyer told once per attempt), and lets the buyer pay again', async () => {
    const { order, payment, user } = await placedOrder(1);
    await h.psp.client.pay(payment.paymentId, { outcome: 'decline' });
    await vi.waitFor(
      async () => expect(await eventTypesOf(order.id)).toContain(OrderEventType.ORDER_EVENT_TYPE_PAYMENT_FAILED),
      WAIT,
    );
    expect((await orderOf(user, order.id)).status).toBe(OrderStatus.ORDER_STATUS_CREATED);

    await h.psp.client.pay(payment.paymentId, { outcome: 'succeed' });
    await vi.waitFor(
      async () => expect((await orderOf(user, order.id)).status).toBe(OrderStatus.ORDER_STATUS_PAID),
      WAIT,
    );
    expect(await eventTypesOf(order.id)).toEqual([
      OrderEventType.ORDER_EVENT_TYPE_CREATED,
      OrderEventType.ORDER_EVENT_TYPE_PAYMENT_FAILED,
      OrderEventType.ORDER_EVENT_TYPE_PAID,
    ]);
  });

  it('refunds a payment that succeeds after the order was cancelled, and tells the buyer', async () => {
    const { order, payment, user, auth, ticketTypeId } = await placedOrder(2);
    await h.checkout.cancelOrder({ userId: user, orderId: order.id }, auth);
    await h.psp.client.pay(payment.paymentId, { outcome: 'succeed' });

    await vi.waitFor(async () => {
      const [refund] = (await orderOf(user, order.id)).refunds;
      expect(refund).toMatchObject({
        paymentId: payment.paymentId,
        amount: { amountMinor: 5_000, currency: 'EUR' },
        reason: RefundReason.REFUND_REASON_LATE_PAYMENT,
        status: RefundStatus.REFUND_STATUS_SUCCEEDED,
      });
    }, WAIT);
    const after = await orderOf(user, order.id);
    expect(after.status).toBe(OrderStatus.ORDER_STATUS_CANCELLED);
    expect(after.refunds).toHaveLength(1);
    expect(await h.psp.client.getPayment(payment.paymentId)).toMatchObject({ status: 'refunded' });
    await vi.waitFor(
      async () => expect(await eventTypesOf(order.id)).toContain(OrderEventType.ORDER_EVENT_TYPE_LATE_PAYMENT_REFUNDED),
      WAIT,
    );
    expect(await stockLedger(h.sql, ticketTypeId)).toMatchObject({ booked: 0, sold: 0 });
  });
});

describe('a payment after the holds lapsed', () => {
  it('expires the order, refunds the payment automatically and tells the buyer', async () => {
    const { order, payment, user, ticketTypeId } = await placedOrder(1);
    // The hold's time runs out (as if the buyer sat on the pay page for the whole hold TTL).
    await h.sql`update booking.bookings set expires_at = now() - interval '1 second' where order_id = ${order.id}`;
    await h.psp.client.pay(payment.paymentId, { outcome: 'succeed' });
    await vi.waitFor(async () => {
      const after = await orderOf(user, order.id);
      expect(after.status).toBe(OrderStatus.ORDER_STATUS_EXPIRED);
      expect(after.refunds).toMatchObject([
        { reason: RefundReason.REFUND_REASON_LATE_PAYMENT, status: RefundStatus.REFUND_STATUS_SUCCEEDED },
      ]);
    }, WAIT);
    await vi.waitFor(
      async () =>
        expect(await eventTypesOf(order.id)).toEqual([
          OrderEventType.ORDER_EVENT_TYPE_CREATED,
          OrderEventType.ORDER_EVENT_TYPE_EXPIRED,
          OrderEventType.ORDER_EVENT_TYPE_LATE_PAYMENT_REFUNDED,
        ]),
      WAIT,
    );
    // Never sold: the lapsed hold goes back to stock with booking's sweep, as any lapsed hold.
    expect(await stockLedger(h.sql, ticketTypeId)).toMatchObject({ sold: 0 });
  });
});

describe('RefundOrder', () => {
  it('refunds a whole order for an admin: money back, seats back once, codes void, REFUNDED announced', async () => {
    const { order, user, ticketTypeId, payment } = await paidOrder(2);
    expect(await stockLedger(h.sql, ticketTypeId)).toMatchObject({ booked: 2, sold: 2 });
    const request = { userId: user, orderId: order.id, ticketCodes: [], idempotencyKey: randomUUID() };
    const { order: refunded } = await h.checkout.refundOrder(request, await h.asAdmin());
    expect(refunded?.status).toBe(OrderStatus.ORDER_STATUS_REFUNDED);
    expect(refunded?.tickets.every((ticket) => ticket.voided)).toBe(true);
    expect(refunded?.refunds).toMatchObject([
      {
        amount: { amountMinor: 5_000 },
        reason: RefundReason.REFUND_REASON_REQUESTED,
        status: RefundStatus.REFUND_STATUS_SUCCEEDED,
      },
    ]);
    expect(await stockLedger(h.sql, ticketTypeId)).toMatchObject({ booked: 0, sold: 0, returned: 2 });
    // A repeat returns the same refund and returns nothing twice.
    const again = await h.checkout.refundOrder(request, await h.asAdmin());
    expect(again.order?.refunds).toHaveLength(1);
    expect(await stockLedger(h.sql, ticketTypeId)).toMatchObject({ booked: 0, returned: 2 });
    expect(await h.psp.client.getPayment(payment.paymentId)).toMatchObject({ status: 'refunded' });
    await vi.waitFor(
      async () => expect(await eventTypesOf(order.id)).toContain(OrderEventType.ORDER_EVENT_TYPE_REFUNDED),
      WAIT,
    );
  });

  it('refunds one ticket for the event’s organizer: PARTIALLY_REFUNDED, the other ticket still valid', async () => {
    const { order, user, ticketTypeId } = await paidOrder(2);
    const [first, second] = order.tickets;
    const { order: after } = await h.checkout.refundOrder(
      { userId: user, orderId: order.id, ticketCodes: [first!.code], idempotencyKey: randomUUID() },
      await h.as('organizer', [Role.organizer]),
    );
    expect(after?.status).toBe(OrderStatus.ORDER_STATUS_PARTIALLY_REFUNDED);
    expect(after?.tickets.map((ticket) => [ticket.code, ticket.voided])).toEqual([
      [first!.code, true],
      [second!.code, false],
    ]);
    expect(after?.refunds[0]?.amount).toEqual({ amountMinor: 2_500, currency: 'EUR' });
    expect(await stockLedger(h.sql, ticketTypeId)).toMatchObject({ booked: 1, sold: 1, returned: 1 });
    // The same ticket again is no longer refundable.
    expect(
      await outcome(
        h.checkout.refundOrder(
          { userId: user, orderId: order.id, ticketCodes: [first!.code], idempotencyKey: randomUUID() },
          await h.asAdmin(),
        ),
      ),
    ).toMatch(/^INVALID_ARGUMENT: ticket_codes\[0\]/);
  });

  it('gives racing refunds of the same tickets one outcome, with a late webhook redelivered meanwhile', async () => {
    const { order, user, ticketTypeId, payment } = await paidOrder(2);
    const [succeeded] = await h.psp.client.listEvents({ paymentId: payment.paymentId });
    const admin = await h.asAdmin();
    const results = await Promise.all([
      ...Array.from({ length: 4 }, () =>
        outcome(
          h.checkout.refundOrder(
            { userId: user, orderId: order.id, ticketCodes: [], idempotencyKey: randomUUID() },
            admin,
          ),
        ),
      ),
      succeeded ? h.psp.client.redeliver(succeeded.id).then(() => 'redelivered') : Promise.resolve('none'),
    ]);
    expect(results.filter((result) => result === 'OK')).toHaveLength(1);
    const after = await orderOf(user, order.id);
    expect(after.status).toBe(OrderStatus.ORDER_STATUS_REFUNDED);
    expect(after.refunds).toHaveLength(1);
    expect(await stockLedger(h.sql, ticketTypeId)).toMatchObject({ booked: 0, returned: 2 });
  });

  it('gives 8 concurrent RefundOrder calls with one key one refund', async () => {
    const { order, user, ticketTypeId } = await paidOrder(2);
    const request = { userId: user, orderId: order.id, ticketCodes: [], idempotencyKey: randomUUID() };
    const admin = await h.asAdmin();
    const results = await Promise.all(Array.from({ length: 8 }, () => outcome(h.checkout.refundOrder(request, admin))));
    expect(results).toEqual(Array(8).fill('OK'));
    const after = await orderOf(user, order.id);
    expect(after.refunds).toHaveLength(1);
    expect(after.status).toBe(OrderStatus.ORDER_STATUS_REFUNDED);
    expect(await stockLedger(h.sql, ticketTypeId)).toMatchObject({ booked: 0, returned: 2 });
  });

  it('retries a refund while the provider is down, with nothing half done in between', async () => {
    const { order, user, ticketTypeId } = await paidOrder(2);
    await h.psp.client.setRefundOutage(true);
    let pending: Awaited<ReturnType<typeof orderOf>>;
    try {
      const { order: answered } = await h.checkout.refundOrder(
        { userId: user, orderId: order.id, ticketCodes: [], idempotencyKey: randomUUID() },
        await h.asAdmin(),
      );
      pending = answered as typeof pending;
      expect(pending.status).toBe(OrderStatus.ORDER_STATUS_PAID);
      expect(pending.refunds).toMatchObject([{ status: RefundStatus.REFUND_STATUS_PENDING }]);
      expect(pending.tickets.some((ticket) => ticket.voided)).toBe(false);
      expect(await stockLedger(h.sql, ticketTypeId)).toMatchObject({ booked: 2, sold: 2, returned: 0 });
      // The retry job runs while the provider is still down: still pending, nothing released.
      await h.sql`update checkout.refunds set next_attempt_at = now() where order_id = ${order.id}`;
      await processDueRefunds(h.checkouts[0]!.context, 10);
      const [row] = await h.sql`select status, attempts from checkout.refunds where order_id = ${order.id}`;
      expect(row).toMatchObject({ status: 'PENDING', attempts: 2 });
      expect(await stockLedger(h.sql, ticketTypeId)).toMatchObject({ returned: 0 });
    } finally {
      await h.psp.client.setRefundOutage(false);
    }
    // Back up: the next run (its time come) finishes it.
    await h.sql`update checkout.refunds set next_attempt_at = now() where order_id = ${order.id}`;
    await processDueRefunds(h.checkouts[0]!.context, 10);
    const done = await orderOf(user, order.id);
    expect(done.status).toBe(OrderStatus.ORDER_STATUS_REFUNDED);
    expect(done.refunds).toMatchObject([{ status: RefundStatus.REFUND_STATUS_SUCCEEDED }]);
    expect(await stockLedger(h.sql, ticketTypeId)).toMatchObject({ booked: 0, returned: 2 });
  });

  it('lets a buyer refund only within the event’s window, and not a box-office payment', async () => {
    const closed = await paidOrder(1);
    const request = (placed: typeof closed) => ({
      userId: placed.user,
      orderId: placed.order.id,
      ticketCodes: [],
      idempotencyKey: randomUUID(),
    });
    expect(await outcome(h.checkout.refundOrder(request(closed), closed.auth))).toMatch(
      /^PERMISSION_DENIED: the event/,
    );
    expect(await outcome(h.checkout.refundOrder(request(closed), await h.as(`stranger-${randomUUID()}`)))).toMatch(
      /^NOT_FOUND|^PERMISSION_DENIED/,
    );

    const open = await paidOrder(1, new Date(Date.now() + 3_600_000));
    expect(await outcome(h.checkout.refundOrder(request(open), open.auth))).toBe('OK');

    const boxOffice = await placedOrder(1);
    await h.checkout.markOrderAsPaid(
      { userId: boxOffice.user, orderId: boxOffice.order.id, paymentReference: 'cash-1', idempotencyKey: 'cash-1' },
      await h.asAdmin(),
    );
    expect(await outcome(h.checkout.refundOrder(request(boxOffice), await h.asAdmin()))).toMatch(
      /^FAILED_PRECONDITION: .*box office/,
    );
  });
});

describe('after everything above', () => {
  it('audits: every refunded order has its provider refunds, and every seat back on sale belongs to a void ticket', async () => {
    const unbacked = await h.sql`
      select o.id from checkout.orders o
      where o.status in ('REFUNDED', 'PARTIALLY_REFUNDED')
        and not exists (select from checkout.refunds r
                        where r.order_id = o.id and r.reason = 'REQUESTED' and r.status = 'SUCCEEDED'
                          and r.provider_refund_id is not null and r.completed_at is not null)`;
    expect(unbacked).toEqual([]);
    const [seats] = await h.sql<{ returned: number; voided: number }[]>`
      select (select coalesce(sum(seats_returned), 0)::int from booking.bookings) as returned,
             (select count(*)::int from checkout.tickets where voided_at is not null) as voided`;
    expect(seats?.returned).toBe(seats?.voided);
    const [money] = await h.sql<{ wrong: number }[]>`
      select count(*)::int as wrong from checkout.refunds r
      where r.reason = 'REQUESTED' and r.status = 'SUCCEEDED'
        and r.amount_minor <> (select coalesce(sum(i.unit_price_minor), 0) from checkout.tickets t
                               join checkout.order_items i on i.order_id = t.order_id and i.ticket_type_id = t.ticket_type_id
                               where t.refund_id = r.id)`;
    expect(money?.wrong).toBe(0);
  });
});
