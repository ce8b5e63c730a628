// The Stripe adapter of the payment provider port, on the official SDK: a PaymentIntent per order (the client
// confirms it with Stripe.js and the client secret), refunds through the Refunds API, webhooks verified with the
// SDK's `constructEvent`. Everything Stripe-shaped stays in this file; checkout sees only provider.ts.
import Stripe from 'stripe';
import {
  type Amount,
  type CreatePaymentRequest,
  InvalidWebhookSignature,
  type PaymentEvent,
  type PaymentProvider,
  type PaymentSession,
  ProviderRefused,
  ProviderUnavailable,
  type RefundRequest,
  type RefundResult,
} from './provider.ts';

export interface StripeProviderOptions {
  /** The account's secret API key (`sk_live_…` / `sk_test_…`). */
  secretKey: string;
  /** The signing secret of the webhook endpoint (`whsec_…`). */
  webhookSecret: string;
  /** Where the API is, when not api.stripe.com: scheme, host and port only (the SDK always adds `/v1/…`). For tests. */
  apiBaseUrl?: string;
  /** One HTTP attempt's timeout; the SDK's own default (80 s) is far longer than any caller waits. */
  timeoutMs?: number;
  /** Repeats of a request that failed on the network, 409 or 5xx (the SDK backs off from 0.5 s, at most 5 s). */
  maxNetworkRetries?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
// Every request we make carries an idempotency key, so a repeat never pays or refunds twice.
const DEFAULT_MAX_NETWORK_RETRIES = 2;

export function createStripeProvider(options: StripeProviderOptions): PaymentProvider {
  if (!options.secretKey) throw new Error('the Stripe secret key is empty');
  // Said at boot: with an empty secret every webhook would be answered "bad signature", and Stripe would give up.
  if (!options.webhookSecret) throw new Error('the Stripe webhook signing secret is empty');
  const stripe = new Stripe(options.secretKey, {
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxNetworkRetries: options.maxNetworkRetries ?? DEFAULT_MAX_NETWORK_RETRIES,
    ...apiAddress(options.apiBaseUrl),
  });
  return {
    name: 'stripe',
    createPayment: (request, signal) =>
      untilAborted(signal, () => createPaymentIntent(stripe, request).catch(rethrowAs('create the payment'))),
    refund: (request, signal) =>
      untilAborted(signal, () => createRefund(stripe, request).catch(rethrowAs('refund the payment'))),
    parseWebhook: (rawBody, headers) => toPaymentEvent(verifiedEvent(stripe, rawBody, headers, options.webhookSecret)),
  };
}

async function createPaymentIntent(stripe: Stripe, request: CreatePaymentRequest): Promise<PaymentSession> {
  const intent = await stripe.paymentIntents.create(
    {
      amount: request.amount.amountMinor,
      // Stripe's currency codes are lower-case ISO 4217; checkout's are upper-case.
      currency: request.amount.currency.toLowerCase(),
      // What the webhooks give back, so a payment can be tied to its order without our database.
      metadata: { order_id: request.orderId },
      description: request.description,
      automatic_payment_methods: { enabled: true },
    },
    { idempotencyKey: request.idempotencyKey },
  );
  return { provider: 'stripe', paymentId: intent.id, clientSecret: intent.client_secret ?? '', payUrl: '' };
}

async function createRefund(stripe: Stripe, request: RefundRequest): Promise<RefundResult> {
  const refund = await stripe.refunds.create(
    { payment_intent: request.paymentId, amount: request.amount.amountMinor },
    { idempotencyKey: request.idempotencyKey },
  );
  return { refundId: refund.id, status: refundStatus(refund) };
}

/** Stripe's refund statuses: pending, requires_action, succeeded, failed, canceled. */
function refundStatus(refund: Stripe.Refund): RefundResult['status'] {
  switch (refund.status) {
    case 'succeeded':
      return 'succeeded';
    case 'failed':
    case 'canceled':
      throw new ProviderRefused(
        `stripe refund ${refund.id} is ${refund.status}: ${refund.failure_reason ?? 'no reason given'}`,
      );
    default:
      // pending, requires_action (the buyer owes Stripe bank details), or a status newer than this code: a webhook
      // (refund.updated / refund.failed) settles it.
      return 'pending';
  }
}

/**
 * Stripe's errors in the port's terms. Not now: the network, timeouts, 5xx, 409 (a request with the same idempotency
 * key still running), 429, and our own credentials refused (401/403) — an operator's fix, after which the same request
 * succeeds, and whose message (it names the key) must not reach a buyer as a refusal would. Anything else Stripe
 * refused is for good. Errors that are not Stripe's (our bugs) pass through unchanged.
 */
function rethrowAs(action: string) {
  return (error: unknown): never => {
    if (!(error instanceof Stripe.errors.StripeError)) throw error;
    const reason = stripeMessage(error);
    if (isTemporary(error)) throw new ProviderUnavailable(`stripe could not ${action}: ${reason}`, { cause: error });
    throw new ProviderRefused(`stripe refused to ${action}: ${reason}`, { cause: error });
  };
}

function isTemporary(error: InstanceType<typeof Stripe.errors.StripeError>): boolean {
  const { errors } = Stripe;
  if (error instanceof errors.StripeConnectionError || error instanceof errors.StripeRateLimitError) return true;
  if (error instanceof errors.StripeAuthenticationError || error instanceof errors.StripePermissionError) return true;
  if (error instanceof errors.StripeAPIError) {
    // No status: the body was not Stripe's JSON (a proxy's error page, a cut-off response).
    return error.statusCode === undefined || error.statusCode >= 500 || error.statusCode === 409;
  }
  return false;
}

/** Stripe's own message, without the `[req_…]` prefix the SDK adds (the request id stays on the cause). */
function stripeMessage(error: InstanceType<typeof Stripe.errors.StripeError>): string {
  const raw = error.raw as { message?: unknown } | undefined;
  const message = typeof raw?.message === 'string' && raw.message !== '' ? raw.message : error.message;
  return error.code ? `${message} (${error.code})` : message;
}

/**
 * The SDK takes no AbortSignal: a caller that gives up stops waiting at once, and the request it leaves behind ends
 * by the SDK's timeout. Its idempotency key makes the caller's next try get the same payment or refund.
 */
function untilAborted<T>(signal: AbortSignal | undefined, start: () => Promise<T>): Promise<T> {
  if (!signal) return start();
  // A rejection, not a throw: the port's callers await a promise.
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    start()
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** `https://host:port` as the SDK's host, port and protocol options. */
function apiAddress(apiBaseUrl: string | undefined): Pick<Stripe.StripeConfig, 'host' | 'port' | 'protocol'> {
  if (apiBaseUrl === undefined) return {};
  const url = new URL(apiBaseUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`the Stripe API base URL must be http or https: ${apiBaseUrl}`);
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new Error(`the Stripe API base URL takes no path (the SDK always sends to /v1/…): ${apiBaseUrl}`);
  }
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return {
    protocol,
    // node:http wants an IPv6 address without the URL's brackets.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port || (protocol === 'http' ? 80 : 443),
  };
}

function verifiedEvent(
  stripe: Stripe,
  rawBody: Buffer,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  webhookSecret: string,
): Stripe.Event {
  const signature = signatureHeader(headers);
  try {
    // Verifies the HMAC over the exact bytes received and that the timestamp is at most 5 minutes old (replays).
    return stripe.webhooks.constructEvent(rawBody, signature, webhookSecret);
  } catch (error) {
    if (error instanceof Stripe.errors.StripeSignatureVerificationError) {
      throw new InvalidWebhookSignature(error.message);
    }
    throw error;
  }
}

function signatureHeader(headers: Readonly<Record<string, string | string[] | undefined>>): string {
  // node:http lower-cases header names; another caller may not.
  const name = Object.keys(headers).find((key) => key.toLowerCase() === 'stripe-signature');
  const value = name === undefined ? undefined : headers[name];
  if (typeof value !== 'string' || value === '') {
    throw new InvalidWebhookSignature('the webhook has no single stripe-signature header');
  }
  return value;
}

/** The events checkout acts on; every other type is acknowledged and ignored (subscribe the endpoint to these). */
function toPaymentEvent(event: Stripe.Event): PaymentEvent {
  switch (event.type) {
    case 'payment_intent.succeeded': {
      const intent = event.data.object;
      return {
        ...paymentOf(event.id, intent),
        kind: 'payment_succeeded',
        amount: amountOf(intent.amount_received, intent.currency),
      };
    }
    case 'payment_intent.payment_failed': {
      const intent = event.data.object;
      return {
        ...paymentOf(event.id, intent),
        kind: 'payment_failed',
        amount: amountOf(intent.amount, intent.currency),
        failureReason: intent.last_payment_error?.message ?? undefined,
      };
    }
    case 'refund.updated':
      return refundUpdated(event.id, event.data.object) ?? ignored(event);
    case 'refund.failed':
      return refundEvent('refund_failed', event.id, event.data.object) ?? ignored(event);
    case 'charge.refunded':
      return chargeRefunded(event.id, event.data.object) ?? ignored(event);
    default:
      return ignored(event);
  }
}

function paymentOf(eventId: string, intent: Stripe.PaymentIntent) {
  return { eventId, paymentId: intent.id, orderId: intent.metadata.order_id };
}

/**
 * A refund that was `pending` or `requires_action` when created is settled by `refund.updated`. A `canceled` one
 * (the buyer never gave the details a bank transfer refund needs) is not returned money either: failed, as for
 * `refund.failed`, so checkout does not wait on it for ever.
 */
function refundUpdated(eventId: string, refund: Stripe.Refund): PaymentEvent | undefined {
  if (refund.status === 'succeeded') return refundEvent('refund_succeeded', eventId, refund);
  if (refund.status === 'failed' || refund.status === 'canceled') return refundEvent('refund_failed', eventId, refund);
  return undefined;
}

/**
 * `charge.refunded` comes for every refund of a charge, partial ones included, and names the charge, not the refund:
 * the refund is the newest succeeded one the snapshot lists (Stripe lists the newest first). A charge rendered
 * without its refunds (API versions since 2022-11-15 leave them out) names none: ignored, and `refund.updated`
 * carries what matters.
 */
function chargeRefunded(eventId: string, charge: Stripe.Charge): PaymentEvent | undefined {
  const refund = charge.refunds?.data.find((candidate) => candidate.status === 'succeeded');
  return refund ? refundEvent('refund_succeeded', eventId, refund) : undefined;
}

/** A refund of a payment that is not a PaymentIntent was not made through this adapter: not ours. */
function refundEvent(
  kind: 'refund_succeeded' | 'refund_failed',
  eventId: string,
  refund: Stripe.Refund,
): PaymentEvent | undefined {
  const paymentId = idOf(refund.payment_intent);
  if (paymentId === undefined) return undefined;
  return { kind, eventId, paymentId, refundId: refund.id, amount: amountOf(refund.amount, refund.currency) };
}

function ignored(event: Stripe.Event): PaymentEvent {
  return { kind: 'ignored', eventId: event.id, type: event.type };
}

function amountOf(amountMinor: number, currency: string): Amount {
  return { amountMinor, currency: currency.toUpperCase() };
}

/** An expandable field: the id, or the object it was expanded to. */
function idOf(field: string | { id: string } | null): string | undefined {
  if (field === null) return undefined;
  return typeof field === 'string' ? field : field.id;
}
