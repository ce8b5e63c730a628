import { describe, expect } from 'vitest';
import { SandboxRefused } from '../src/index.ts';
import { API_KEY, newPayment, test } from './fixtures.ts';

describe('payments', () => {
  test('the same idempotency key gives the same payment; with another body it is refused', async ({ client }) => {
    const request = newPayment(2_500);
    const payment = await client.createPayment(request);
    expect(payment).toMatchObject({
      id: expect.stringMatching(/^pay_[0-9a-f-]{36}$/),
      status: 'requires_payment',
      amount_minor: 2_500,
      amount_refunded_minor: 0,
      currency: 'EUR',
      order_id: request.orderId,
      description: 'two tickets',
      pay_url: expect.stringMatching(new RegExp(`/pay/${payment.id}$`)),
    });

    expect(await client.createPayment(request)).toEqual(payment);
    expect(await client.getPayment(payment.id)).toEqual(payment);
    const conflict = await client.createPayment({ ...request, amountMinor: 2_600 }).catch((error: unknown) => error);
    expect(conflict).toBeInstanceOf(SandboxRefused);
    expect(conflict).toMatchObject({ status: 409, type: 'idempotency_conflict' });
  });

  test('refuses a call without the API key, without an idempotency key, or with a bad body', async ({ sandbox }) => {
    const post = (headers: Record<string, string>, body: unknown) =>
      fetch(`${sandbox.url}/v1/payments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const valid = { amount_minor: 100, currency: 'EUR', order_id: 'o-1', description: '' };

    const unauthenticated = await post({ authorization: 'Bearer not-the-key', 'idempotency-key': 'k' }, valid);
    expect(unauthenticated.status).toBe(401);
    expect(await unauthenticated.json()).toMatchObject({ error: { type: 'unauthorized' } });

    const withoutKey = await post({ authorization: `Bearer ${API_KEY}` }, valid);
    expect(withoutKey.status).toBe(400);

    const badAmount = await post(
      { authorization: `Bearer ${API_KEY}`, 'idempotency-key': 'k2' },
      { ...valid, amount_minor: 1.5, currency: 'eur' },
    );
    expect(badAmount.status).toBe(400);
    const { error } = (await badAmount.json()) as { error: { type: string; message: string } };
    expect(error.type).toBe('invalid_request');
    expect(error.message).toMatch(/amount_minor/);
    expect(error.message).toMatch(/currency/);
  });

  test('an unknown payment is 404', async ({ client }) => {
    await expect(client.getPayment('pay_missing')).rejects.toMatchObject({ status: 404, type: 'not_found' });
  });
});

test('the API reads JSON whatever the content type says (curl -d sends a form type)', async ({ sandbox }) => {
  const response = await fetch(`${sandbox.url}/v1/payments`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${API_KEY}`,
      'idempotency-key': 'curl-style',
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: JSON.stringify({ amount_minor: 100, currency: 'EUR', order_id: 'o-curl' }),
  });
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({ amount_minor: 100, description: '' });
});
