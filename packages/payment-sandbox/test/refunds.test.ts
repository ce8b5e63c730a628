import { describe, expect, vi } from 'vitest';
import { createSandboxClient, SandboxRefused, SandboxUnavailable } from '../src/index.ts';
import { API_KEY, newPayment, test } from './fixtures.ts';

describe('refunds', () => {
  test('partial, then full; more than is left is refused; a key refunds once', async ({ client, receiver }) => {
    const { id } = await client.createPayment(newPayment(1_000));
    await client.pay(id, { outcome: 'succeed' });

    const partial = await client.refund({ paymentId: id, amountMinor: 300, idempotencyKey: 'refund-1' });
    expect(partial).toMatchObject({
      id: expect.stringMatching(/^re_/),
      payment_id: id,
      amount_minor: 300,
      currency: 'EUR',
      status: 'succeeded',
    });
    expect(await client.getPayment(id)).toMatchObject({ status: 'partially_refunded', amount_refunded_minor: 300 });

    // A retried call: the same refund, no money returned twice.
    expect(await client.refund({ paymentId: id, amountMinor: 300, idempotencyKey: 'refund-1' })).toEqual(partial);
    expect((await client.getPayment(id)).amount_refunded_minor).toBe(300);
    await expect(client.refund({ paymentId: id, amountMinor: 301, idempotencyKey: 'refund-1' })).rejects.toMatchObject({
      status: 409,
      type: 'idempotency_conflict',
    });

    await expect(
      client.refund({ paymentId: id, amountMinor: 701, idempotencyKey: 'refund-too-much' }),
    ).rejects.toMatchObject({ status: 400, type: 'amount_too_large' });
    await client.refund({ paymentId: id, amountMinor: 700, idempotencyKey: 'refund-2' });
    expect(await client.getPayment(id)).toMatchObject({ status: 'refunded', amount_refunded_minor: 1_000 });
    await expect(client.refund({ paymentId: id, amountMinor: 1, idempotencyKey: 'refund-3' })).rejects.toMatchObject({
      status: 400,
      type: 'amount_too_large',
    });

    await vi.waitFor(() =>
      expect(
        receiver.deliveries
          .filter((d) => d.event.type === 'refund.succeeded')
          .map((d) => d.event.data.object.amount_minor)
          .sort(),
      ).toEqual([300, 700]),
    );
  });

  test('an unknown or unpaid payment cannot be refunded', async ({ client }) => {
    await expect(
      client.refund({ paymentId: 'pay_missing', amountMinor: 1, idempotencyKey: 'r-missing' }),
    ).rejects.toMatchObject({ status: 404, type: 'not_found' });
    const { id } = await client.createPayment(newPayment());
    await expect(client.refund({ paymentId: id, amountMinor: 1, idempotencyKey: 'r-unpaid' })).rejects.toMatchObject({
      status: 409,
      type: 'payment_not_refundable',
    });
  });

  test('during an outage refunds answer 503, and the same call succeeds afterwards', async ({ client }) => {
    const { id } = await client.createPayment(newPayment(500));
    await client.pay(id, { outcome: 'succeed' });
    const refund = { paymentId: id, amountMinor: 500, idempotencyKey: 'refund-in-outage' };

    await client.setRefundOutage(true);
    const failure = await client.refund(refund).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SandboxUnavailable);
    expect(failure).toMatchObject({ status: 503, retriable: true });
    expect((await client.getPayment(id)).amount_refunded_minor).toBe(0);

    await client.setRefundOutage(false);
    expect(await client.refund(refund)).toMatchObject({ amount_minor: 500, status: 'succeeded' });
    expect((await client.getPayment(id)).status).toBe('refunded');
  });

  test('a sandbox that is not there is unavailable, not refused', async ({ sandbox }) => {
    const url = sandbox.url;
    await sandbox.stop();
    const client = createSandboxClient({ baseUrl: url, apiKey: API_KEY, timeoutMs: 1_000 });
    const failure = await client.getPayment('pay_x').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SandboxUnavailable);
    expect(failure).not.toBeInstanceOf(SandboxRefused);
  });
});
