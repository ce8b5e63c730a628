// The Stripe adapter against a local HTTP server that answers as Stripe's API documents (no network to Stripe here),
// and its webhook verification with payloads signed by the SDK's own test helper. Nothing of the SDK is mocked.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '@ticket/platform/testing';
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  InvalidWebhookSignature,
  type PaymentProvider,
  ProviderRefused,
  ProviderUnavailable,
} from '../src/payments/provider.ts';
import { createStripeProvider, type StripeProviderOptions } from '../src/payments/stripe.ts';

const secretKey = `sk_test_${randomUUID().replaceAll('-', '')}`;
const webhookSecret = `whsec_${randomUUID().replaceAll('-', '')}`;

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The form-encoded body, as Stripe's v1 API takes it. */
  form: URLSearchParams;
}

/** An answer the test queues for the next request to a path, or 'hang': no answer at all. */
type Reply = { status: number; body: unknown } | 'hang';

/** A stand-in for api.stripe.com: records every request and answers with the documented object shapes. */
async function startStripeApi() {
  const received: Received[] = [];
  const queued = new Map<string, Reply[]>();
  const hanging: ServerResponse[] = [];
  let refundStatus = 'succeeded';
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const path = request.url ?? '';
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    received.push({ method: request.method ?? '', path, headers: request.headers, form });
    const reply = queued.get(path)?.shift() ?? defaultReply(request.method ?? '', path, form, refundStatus);
    if (reply === 'hang') {
      hanging.push(response);
      return;
    }
    response.writeHead(reply.status, {
      'content-type': 'application/json',
      'request-id': `req_${randomUUID().slice(0, 14)}`,
      'stripe-version': Stripe.API_VERSION,
    });
    response.end(JSON.stringify(reply.body, null, 2));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    queue: (path: string, ...replies: Reply[]) => queued.set(path, [...(queued.get(path) ?? []), ...replies]),
    answerRefundsWith: (status: string) => {
      refundStatus = status;
    },
    reset() {
      received.length = 0;
      queued.clear();
      refundStatus = 'succeeded';
      // Answered, not cut: the SDK repeats a request whose connection was reset, and that repeat would land in the
      // next test. A 503 is not repeated with retries off.
      for (const response of hanging.splice(0)) response.writeHead(503).end();
    },
    async close() {
      for (const response of hanging.splice(0)) response.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

function defaultReply(method: string, path: string, form: URLSearchParams, refundStatus: string): Reply {
  if (method === 'POST' && path === '/v1/payment_intents') return { status: 200, body: paymentIntent(form) };
  if (method === 'POST' && path === '/v1/refunds') return { status: 200, body: refund(form, refundStatus) };
  return stripeError(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}).`);
}

/** A PaymentIntent as `POST /v1/payment_intents` returns it (the API reference's example, fed from the request). */
function paymentIntent(form: URLSearchParams) {
  const id = `pi_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
  return {
    id,
    object: 'payment_intent',
    amount: Number(form.get('amount')),
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: {
      allow_redirects: 'always',
      enabled: form.get('automatic_payment_methods[enabled]') === 'true',
    },
    canceled_at: null,
    cancellation_reason: null,
    capture_method: 'automatic_async',
    client_secret: `${id}_secret_${randomUUID().replaceAll('-', '').slice(0, 25)}`,
    confirmation_method: 'automatic',
    created: Math.floor(Date.now() / 1000),
    currency: form.get('currency'),
    customer: null,
    description: form.get('description'),
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    metadata: { order_id: form.get('metadata[order_id]') },
    next_action: null,
    on_behalf_of: null,
    payment_method: null,
    payment_method_options: { card: { request_three_d_secure: 'automatic' } },
    payment_method_types: ['card', 'link'],
    processing: null,
    receipt_email: null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: 'requires_payment_method',
    transfer_data: null,
    transfer_group: null,
  };
}

/** A Refund as `POST /v1/refunds` returns it. */
function refund(form: URLSearchParams, status: string) {
  return {
    id: `re_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
    object: 'refund',
    amount: Number(form.get('amount')),
    balance_transaction: `txn_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
    charge: `ch_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
    created: Math.floor(Date.now() / 1000),
    currency: 'eur',
    destination_details: {
      card: { reference_status: 'pending', reference_type: 'acquirer_reference_number' },
      type: 'card',
    },
    metadata: {},
    payment_intent: form.get('payment_intent'),
    reason: null,
    receipt_number: null,
    source_transfer_reversal: null,
    status,
    ...(status === 'failed' ? { failure_reason: 'expired_or_canceled_card' } : {}),
    transfer_reversal: null,
  };
}

/** Stripe's error body: `{ error: { type, code, message, … } }`. */
function stripeError(status: number, type: string, message: string, code?: string): Reply {
  return {
    status,
    body: {
      error: {
        type,
        message,
        ...(code ? { code, doc_url: `https://stripe.com/docs/error-codes/${code.replaceAll('_', '-')}` } : {}),
      },
    },
  };
}

let api: Awaited<ReturnType<typeof startStripeApi>>;
beforeAll(async () => {
  api = await startStripeApi();
});
afterEach(() => api.reset());
afterAll(() => api?.close());

/** Retries off unless a test is about them: each failure below is then one request. */
function provider(options: Partial<StripeProviderOptions> = {}): PaymentProvider {
  return createStripeProvider({ secretKey, webhookSecret, apiBaseUrl: api.url, maxNetworkRetries: 0, ...options });
}

const payment = (orderId = randomUUID()) => ({
  orderId,
  amount: { amountMinor: 4_250, currency: 'EUR' },
  idempotencyKey: orderId,
  description: `Order ${orderId}: 2 × Rock am Ring, GA`,
});

describe('createPayment', () => {
  it('creates a PaymentIntent with the amount, lower-case currency, order id and idempotency key, and returns its session', async () => {
    const request = payment();
    const session = await provider().createPayment(request);

    expect(api.received).toHaveLength(1);
    const [sent] = api.received;
    expect(sent!.method).toBe('POST');
    expect(sent!.path).toBe('/v1/payment_intents');
    expect(sent!.headers.authorization).toBe(`Bearer ${secretKey}`);
    expect(sent!.headers['idempotency-key']).toBe(request.orderId);
    expect(sent!.headers['stripe-version']).toBe(Stripe.API_VERSION);
    expect(sent!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(sent!.form)).toEqual({
      amount: '4250',
      currency: 'eur',
      'metadata[order_id]': request.orderId,
      description: request.description,
      'automatic_payment_methods[enabled]': 'true',
    });
    expect(session).toEqual({
      provider: 'stripe',
      paymentId: expect.stringMatching(/^pi_/),
      clientSecret: expect.stringMatching(/^pi_.+_secret_/),
      payUrl: '',
    });
    expect(session.clientSecret.startsWith(`${session.paymentId}_secret_`)).toBe(true);
  });

  it('is retried by the SDK after a 500, with the same idempotency key, and succeeds', async () => {
    api.queue('/v1/payment_intents', stripeError(500, 'api_error', 'An unknown error occurred'));
    const request = payment();

    const session = await provider({ maxNetworkRetries: 1 }).createPayment(request);

    expect(session.paymentId).toMatch(/^pi_/);
    expect(api.received.map((sent) => sent.headers['idempotency-key'])).toEqual([request.orderId, request.orderId]);
    expect(Object.fromEntries(api.received[1]!.form)).toEqual(Object.fromEntries(api.received[0]!.form));
  });

  it('throws ProviderUnavailable when every try answers 5xx', async () => {
    api.queue(
      '/v1/payment_intents',
      stripeError(500, 'api_error', 'An unknown error occurred'),
      stripeError(503, 'api_error', 'Service unavailable'),
    );

    const error = await provider({ maxNetworkRetries: 1 })
      .createPayment(payment())
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect(api.received).toHaveLength(2);
  });

  it('throws ProviderRefused, without retrying, on a 400 with a Stripe error body', async () => {
    api.queue(
      '/v1/payment_intents',
      stripeError(400, 'invalid_request_error', 'Amount must be at least €0.50 eur', 'amount_too_small'),
    );

    const error = await provider({ maxNetworkRetries: 2 })
      .createPayment(payment())
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ProviderRefused);
    expect((error as Error).message).toBe(
      'stripe refused to create the payment: Amount must be at least €0.50 eur (amount_too_small)',
    );
    expect((error as Error).cause).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(api.received).toHaveLength(1);
  });

  it('throws ProviderRefused on an idempotency key reused with other parameters', async () => {
    api.queue(
      '/v1/payment_intents',
      stripeError(
        400,
        'idempotency_error',
        'Keys for idempotent requests can only be used with the same parameters they were first used with.',
      ),
    );

    await expect(provider().createPayment(payment())).rejects.toBeInstanceOf(ProviderRefused);
  });

  it.each([
    [429, 'rate_limit_error', 'Too many requests hit the API too quickly.', 'rate_limit'],
    [409, 'idempotency_error', 'There is currently another in-progress request using this Idempotent Key.', undefined],
    [401, 'invalid_request_error', 'Invalid API Key provided: sk_test_********1234', undefined],
    [403, 'invalid_request_error', 'The provided key does not have access to this resource.', undefined],
    [502, 'api_error', 'Bad gateway', undefined],
  ])('throws ProviderUnavailable on a %i (%s)', async (status, type, message, code) => {
    api.queue('/v1/payment_intents', stripeError(status, type, message, code));

    const error = await provider()
      .createPayment(payment())
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect(api.received).toHaveLength(1);
  });

  it('throws ProviderUnavailable when nothing listens (connection refused)', async () => {
    const port = await freePort();
    const closed = createStripeProvider({
      secretKey,
      webhookSecret,
      apiBaseUrl: `http://127.0.0.1:${port}`,
      maxNetworkRetries: 0,
    });

    const error = await closed.createPayment(payment()).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect((error as Error).cause).toBeInstanceOf(Stripe.errors.StripeConnectionError);
  });

  it('throws ProviderUnavailable when Stripe does not answer within the timeout', async () => {
    api.queue('/v1/payment_intents', 'hang');
    const started = Date.now();

    const error = await provider({ timeoutMs: 300 })
      .createPayment(payment())
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect((error as Error).message).toMatch(/timeout/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops waiting when the caller aborts, and sends nothing for a signal already aborted', async () => {
    const gone = AbortSignal.abort(new Error('deadline exceeded'));
    await expect(provider().createPayment(payment(), gone)).rejects.toThrow('deadline exceeded');
    expect(api.received).toHaveLength(0);

    api.queue('/v1/payment_intents', 'hang');
    const controller = new AbortController();
    const pending = provider({ timeoutMs: 30_000 }).createPayment(payment(), controller.signal);
    await vi.waitFor(() => expect(api.received).toHaveLength(1));
    controller.abort(new Error('client cancelled'));
    await expect(pending).rejects.toThrow('client cancelled');
  });

  it('refuses an API base URL with a path, which the SDK would not use', () => {
    expect(() => createStripeProvider({ secretKey, webhookSecret, apiBaseUrl: `${api.url}/stripe` })).toThrow(
      /no path/,
    );
  });
});

describe('refund', () => {
  const paymentId = 'pi_3MtwBwLkdIwHu7ix28a3tqPa';

  it('creates a refund of the payment intent for the amount with the idempotency key, and returns its id', async () => {
    const idempotencyKey = randomUUID();

    const result = await provider().refund({
      paymentId,
      amount: { amountMinor: 1_500, currency: 'EUR' },
      idempotencyKey,
    });

    expect(api.received).toHaveLength(1);
    const [sent] = api.received;
    expect(sent!.path).toBe('/v1/refunds');
    expect(sent!.headers.authorization).toBe(`Bearer ${secretKey}`);
    expect(sent!.headers['idempotency-key']).toBe(idempotencyKey);
    expect(Object.fromEntries(sent!.form)).toEqual({ payment_intent: paymentId, amount: '1500' });
    expect(result).toEqual({ refundId: expect.stringMatching(/^re_/), status: 'succeeded' });
  });

  it.each([
    ['pending', 'pending'],
    ['requires_action', 'pending'],
  ])('answers %s from Stripe as %s', async (stripeStatus, status) => {
    api.answerRefundsWith(stripeStatus);

    const result = await provider().refund({
      paymentId,
      amount: { amountMinor: 100, currency: 'EUR' },
      idempotencyKey: randomUUID(),
    });

    expect(result.status).toBe(status);
  });

  it.each(['failed', 'canceled'])('throws ProviderRefused for a refund Stripe answers %s', async (stripeStatus) => {
    api.answerRefundsWith(stripeStatus);

    const error = await provider()
      .refund({ paymentId, amount: { amountMinor: 100, currency: 'EUR' }, idempotencyKey: randomUUID() })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ProviderRefused);
    expect((error as Error).message).toMatch(new RegExp(`^stripe refund re_\\w+ is ${stripeStatus}`));
  });

  it('throws ProviderRefused on a 400 (charge already refunded) and ProviderUnavailable after 5xx', async () => {
    api.queue(
      '/v1/refunds',
      stripeError(400, 'invalid_request_error', 'Charge ch_1 has already been refunded.', 'charge_already_refunded'),
      stripeError(500, 'api_error', 'An unknown error occurred'),
    );
    const request = { paymentId, amount: { amountMinor: 100, currency: 'EUR' }, idempotencyKey: randomUUID() };

    await expect(provider().refund(request)).rejects.toBeInstanceOf(ProviderRefused);
    await expect(provider().refund(request)).rejects.toBeInstanceOf(ProviderUnavailable);
  });
});

describe('parseWebhook', () => {
  const stripe = new Stripe(secretKey);

  /** An event as Stripe delivers it (pretty-printed JSON), and its stripe-signature header made by the SDK. */
  function delivery(type: string, object: object, options: { secret?: string; timestamp?: number } = {}) {
    const payload = JSON.stringify(
      {
        id: `evt_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
        object: 'event',
        api_version: Stripe.API_VERSION,
        created: Math.floor(Date.now() / 1000),
        data: { object },
        livemode: false,
        pending_webhooks: 1,
        request: { id: `req_${randomUUID().slice(0, 14)}`, idempotency_key: randomUUID() },
        type,
      },
      null,
      2,
    );
    const header = stripe.webhooks.generateTestHeaderString({
      payload,
      secret: options.secret ?? webhookSecret,
      ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
    });
    const eventId = (JSON.parse(payload) as { id: string }).id;
    return { body: Buffer.from(payload, 'utf8'), headers: { 'stripe-signature': header }, eventId };
  }

  const orderId = randomUUID();
  const intent = (fields: object = {}) => ({
    ...paymentIntent(new URLSearchParams({ amount: '4250', currency: 'eur', 'metadata[order_id]': orderId })),
    description: 'Order: 2 × Rock am Ring — Käse-Zone',
    ...fields,
  });
  const stripeRefund = (fields: object = {}) => ({
    ...refund(new URLSearchParams({ amount: '1500', payment_intent: 'pi_123' }), 'succeeded'),
    ...fields,
  });

  it('maps payment_intent.succeeded to payment_succeeded: amount received, upper-case currency, order id', () => {
    const paid = intent({ id: 'pi_paid', amount: 4_250, amount_received: 4_000, status: 'succeeded' });
    const { body, headers, eventId } = delivery('payment_intent.succeeded', paid);

    expect(provider().parseWebhook(body, headers)).toEqual({
      kind: 'payment_succeeded',
      eventId,
      paymentId: 'pi_paid',
      orderId,
      amount: { amountMinor: 4_000, currency: 'EUR' },
    });
  });

  it('gives no order id for a payment without one in its metadata', () => {
    const { body, headers } = delivery('payment_intent.succeeded', intent({ metadata: {}, amount_received: 4_250 }));

    expect(provider().parseWebhook(body, headers)).toMatchObject({ kind: 'payment_succeeded', orderId: undefined });
  });

  it('maps payment_intent.payment_failed to payment_failed with the reason of the last payment error', () => {
    const failed = intent({
      id: 'pi_failed',
      status: 'requires_payment_method',
      last_payment_error: {
        code: 'card_declined',
        decline_code: 'insufficient_funds',
        message: 'Your card has insufficient funds.',
        type: 'card_error',
      },
    });
    const { body, headers, eventId } = delivery('payment_intent.payment_failed', failed);

    expect(provider().parseWebhook(body, headers)).toEqual({
      kind: 'payment_failed',
      eventId,
      paymentId: 'pi_failed',
      orderId,
      amount: { amountMinor: 4_250, currency: 'EUR' },
      failureReason: 'Your card has insufficient funds.',
    });
  });

  it('maps refund.updated to refund_succeeded once the refund succeeded, and ignores it while pending', () => {
    const succeeded = delivery('refund.updated', stripeRefund({ id: 're_done', status: 'succeeded' }));
    const pending = delivery('refund.updated', stripeRefund({ status: 'pending' }));

    expect(provider().parseWebhook(succeeded.body, succeeded.headers)).toEqual({
      kind: 'refund_succeeded',
      eventId: succeeded.eventId,
      paymentId: 'pi_123',
      refundId: 're_done',
      amount: { amountMinor: 1_500, currency: 'EUR' },
    });
    expect(provider().parseWebhook(pending.body, pending.headers)).toEqual({
      kind: 'ignored',
      eventId: pending.eventId,
      type: 'refund.updated',
    });
  });

  it('maps refund.failed, and refund.updated to canceled, to refund_failed', () => {
    const failed = delivery(
      'refund.failed',
      stripeRefund({ id: 're_failed', status: 'failed', failure_reason: 'lost_or_stolen_card' }),
    );
    const canceled = delivery('refund.updated', stripeRefund({ id: 're_canceled', status: 'canceled' }));

    expect(provider().parseWebhook(failed.body, failed.headers)).toEqual({
      kind: 'refund_failed',
      eventId: failed.eventId,
      paymentId: 'pi_123',
      refundId: 're_failed',
      amount: { amountMinor: 1_500, currency: 'EUR' },
    });
    expect(provider().parseWebhook(canceled.body, canceled.headers)).toMatchObject({
      kind: 'refund_failed',
      refundId: 're_canceled',
    });
  });

  it('maps charge.refunded to refund_succeeded for the newest refund it lists, and ignores one that lists none', () => {
    const charge = {
      id: 'ch_1',
      object: 'charge',
      amount: 4_250,
      amount_refunded: 2_500,
      currency: 'eur',
      payment_intent: 'pi_123',
      refunded: false,
      status: 'succeeded',
    };
    const listed = delivery('charge.refunded', {
      ...charge,
      refunds: {
        object: 'list',
        data: [stripeRefund({ id: 're_newest', amount: 1_000 }), stripeRefund({ id: 're_older', amount: 1_500 })],
        has_more: false,
        url: '/v1/charges/ch_1/refunds',
      },
    });
    const bare = delivery('charge.refunded', charge);

    expect(provider().parseWebhook(listed.body, listed.headers)).toEqual({
      kind: 'refund_succeeded',
      eventId: listed.eventId,
      paymentId: 'pi_123',
      refundId: 're_newest',
      amount: { amountMinor: 1_000, currency: 'EUR' },
    });
    expect(provider().parseWebhook(bare.body, bare.headers)).toEqual({
      kind: 'ignored',
      eventId: bare.eventId,
      type: 'charge.refunded',
    });
  });

  it('ignores other event types and refunds of payments that are not PaymentIntents', () => {
    const other = delivery('customer.created', { id: 'cus_1', object: 'customer' });
    const chargeOnly = delivery('refund.updated', stripeRefund({ payment_intent: null }));

    expect(provider().parseWebhook(other.body, other.headers)).toEqual({
      kind: 'ignored',
      eventId: other.eventId,
      type: 'customer.created',
    });
    expect(provider().parseWebhook(chargeOnly.body, chargeOnly.headers)).toMatchObject({ kind: 'ignored' });
  });

  it('rejects a payload signed with another secret', () => {
    const { body, headers } = delivery('payment_intent.succeeded', intent(), { secret: 'whsec_someone_else' });

    expect(() => provider().parseWebhook(body, headers)).toThrow(InvalidWebhookSignature);
  });

  it('rejects a tampered body (the amount changed after signing)', () => {
    const { body, headers } = delivery('payment_intent.succeeded', intent({ amount_received: 4_250 }));
    const tampered = Buffer.from(body.toString('utf8').replace('"amount_received": 4250', '"amount_received": 1'));
    expect(tampered.equals(body)).toBe(false);

    expect(() => provider().parseWebhook(tampered, headers)).toThrow(InvalidWebhookSignature);
  });

  it('rejects a body re-encoded after signing (verification is over the exact bytes received)', () => {
    const { body, headers } = delivery('payment_intent.succeeded', intent());
    const reencoded = Buffer.from(JSON.stringify(JSON.parse(body.toString('utf8'))));

    expect(() => provider().parseWebhook(reencoded, headers)).toThrow(InvalidWebhookSignature);
  });

  it('rejects a delivery signed more than 5 minutes ago (a replay), and accepts one just inside the window', () => {
    const now = Math.floor(Date.now() / 1000);
    const old = delivery('payment_intent.succeeded', intent(), { timestamp: now - 301 });
    const recent = delivery('payment_intent.succeeded', intent(), { timestamp: now - 240 });

    expect(() => provider().parseWebhook(old.body, old.headers)).toThrow(InvalidWebhookSignature);
    expect(provider().parseWebhook(recent.body, recent.headers).kind).toBe('payment_succeeded');
  });

  it('rejects a delivery without a stripe-signature header, or with it twice', () => {
    const { body, headers } = delivery('payment_intent.succeeded', intent());
    const signature = headers['stripe-signature'];

    expect(() => provider().parseWebhook(body, {})).toThrow(InvalidWebhookSignature);
    expect(() => provider().parseWebhook(body, { 'stripe-signature': [signature, signature] })).toThrow(
      InvalidWebhookSignature,
    );
    expect(provider().parseWebhook(body, { 'Stripe-Signature': signature }).kind).toBe('payment_succeeded');
  });
});
