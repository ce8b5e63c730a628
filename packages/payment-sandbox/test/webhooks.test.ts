import { describe, expect, vi } from 'vitest';
import { constructSandboxEvent, SandboxRefused } from '../src/index.ts';
import { newPayment, test, WEBHOOK_SECRET } from './fixtures.ts';

describe('paying and the webhooks it sends', () => {
  test('a successful payment reaches the receiver as a signed payment.succeeded', async ({ client, receiver }) => {
    const request = newPayment(4_200);
    const created = await client.createPayment(request);
    const paid = await client.pay(created.id, { outcome: 'succeed' });
    expect(paid).toMatchObject({ id: created.id, status: 'succeeded', failure_reason: null });

    await vi.waitFor(() => expect(receiver.deliveries).toHaveLength(1));
    const [delivery] = receiver.deliveries;
    expect(delivery!.headers['content-type']).toBe('application/json');
    // Verified again here, from the raw bytes and the header, as checkout will.
    const event = constructSandboxEvent(delivery!.rawBody, delivery!.headers['sandbox-signature'], WEBHOOK_SECRET);
    expect(event).toMatchObject({
      id: expect.stringMatching(/^evt_/),
      type: 'payment.succeeded',
      data: { object: { id: created.id, status: 'succeeded', amount_minor: 4_200, order_id: request.orderId } },
    });
    expect(await client.listEvents({ paymentId: created.id })).toEqual([event]);
  });

  test('a declined payment sends payment.failed and can be paid afterwards, once', async ({ client, receiver }) => {
    const { id } = await client.createPayment(newPayment());
    expect(await client.pay(id, { outcome: 'decline' })).toMatchObject({
      status: 'failed',
      failure_reason: 'card_declined',
    });
    expect(await client.pay(id, { outcome: 'succeed' })).toMatchObject({ status: 'succeeded', failure_reason: null });
    await expect(client.pay(id, { outcome: 'succeed' })).rejects.toMatchObject({
      status: 409,
      type: 'payment_already_succeeded',
    });

    await vi.waitFor(() => expect(receiver.deliveries).toHaveLength(2));
    const types = receiver.deliveries.map((delivery) => delivery.event.type).sort();
    expect(types).toEqual(['payment.failed', 'payment.succeeded']);
    const failed = receiver.deliveries.find((delivery) => delivery.event.type === 'payment.failed');
    // The event holds the payment as it was when it failed, though it has succeeded since.
    expect(failed?.event.data.object).toMatchObject({ status: 'failed', failure_reason: 'card_declined' });
  });

  test('paying late answers at once and pays after the delay', async ({ client, receiver }) => {
    const { id } = await client.createPayment(newPayment());
    const accepted = await client.pay(id, { outcome: 'succeed', delayMs: 300 });
    expect(accepted.status).toBe('requires_payment');

    await vi.waitFor(async () => expect((await client.getPayment(id)).status).toBe('succeeded'), { timeout: 3_000 });
    await vi.waitFor(() => expect(receiver.deliveries.map((d) => d.event.type)).toEqual(['payment.succeeded']));
  });

  test('an event the receiver fails is retried until it answers 2xx', async ({ client, receiver }) => {
    receiver.answer = (_event, attempt) => (attempt <= 3 ? 500 : 200);
    const { id } = await client.createPayment(newPayment());
    await client.pay(id, { outcome: 'succeed' });

    await vi.waitFor(() => expect(receiver.deliveries.at(-1)?.answered).toBe(200), { timeout: 3_000 });
    const eventId = receiver.deliveries[0]!.event.id;
    expect(receiver.deliveriesOf(eventId).map((delivery) => delivery.answered)).toEqual([500, 500, 500, 200]);
    // Identical bodies: a retry is the same event, not a new one.
    expect(new Set(receiver.deliveries.map((delivery) => delivery.rawBody.toString())).size).toBe(1);

    // Once acknowledged it is not sent again: a later event arrives and the first one's count stays.
    const other = await client.createPayment(newPayment());
    await client.pay(other.id, { outcome: 'decline' });
    await vi.waitFor(() => expect(receiver.deliveries.some((d) => d.event.type === 'payment.failed')).toBe(true));
    expect(receiver.deliveriesOf(eventId)).toHaveLength(4);
  });

  test('redeliver sends the same event again', async ({ client, receiver }) => {
    const { id } = await client.createPayment(newPayment());
    await client.pay(id, { outcome: 'succeed' });
    await vi.waitFor(() => expect(receiver.deliveries).toHaveLength(1));
    const eventId = receiver.deliveries[0]!.event.id;

    await client.redeliver(eventId);
    await vi.waitFor(() => expect(receiver.deliveriesOf(eventId)).toHaveLength(2));
    const [first, second] = receiver.deliveriesOf(eventId);
    expect(second!.rawBody.equals(first!.rawBody)).toBe(true);
    await expect(client.redeliver('evt_missing')).rejects.toBeInstanceOf(SandboxRefused);
  });

  test('the pay page pays without the API key, as the buyer does', async ({ client, receiver }) => {
    const payment = await client.createPayment(newPayment(1_050));
    const page = await fetch(payment.pay_url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('€10.50');

    const paid = await fetch(payment.pay_url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'outcome=succeed',
    });
    expect(paid.status).toBe(200);
    expect(await paid.text()).toContain('succeeded');
    await vi.waitFor(() => expect(receiver.deliveries.map((d) => d.event.type)).toEqual(['payment.succeeded']));
  });
});
