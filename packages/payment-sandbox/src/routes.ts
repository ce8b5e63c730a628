import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { ERROR_STATUS, idempotencyKey, parseBody, type Reply } from './http.ts';
import { payPage } from './pay-page.ts';
import { PaymentError } from './payments.ts';
import type { PaymentStore } from './store.ts';

// The HTTP API: each handler reads the request, calls the store and shapes the answer; the rules live in
// payments.ts and the store.

export interface RouteContext {
  store: PaymentStore;
  /** The test control of POST /v1/refunds: while true it answers 503, as a PSP having an outage. */
  refundOutage: { failing: boolean };
}

export interface Route {
  method: 'GET' | 'POST';
  /** Matched against the whole path; its groups are the handler's params. */
  path: RegExp;
  /** Whether the merchant's API key is required (everything but the buyer's pay page and the health check). */
  authenticated: boolean;
  handle(context: RouteContext, request: IncomingMessage, params: string[], url: URL): Promise<Reply>;
}

/** A day: longer would outlive any order's hold, so it can only be a mistake. */
const MAX_DELAY_MS = 86_400_000;

const amountMinor = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

const createPaymentBody = z.strictObject({
  amount_minor: amountMinor,
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code in upper case, e.g. EUR'),
  order_id: z.string().min(1).max(200),
  description: z.string().max(1_000).default(''),
});

// Coerced: the pay page posts a form, whose values are strings.
const payBody = z.strictObject({
  outcome: z.enum(['succeed', 'decline']),
  delay_ms: z.coerce.number().int().min(0).max(MAX_DELAY_MS).optional(),
});

const createRefundBody = z.strictObject({
  payment_id: z.string().min(1),
  amount_minor: amountMinor,
});

const outageBody = z.strictObject({ failing: z.boolean() });

function param(params: string[], index = 0): string {
  try {
    return decodeURIComponent(params[index] ?? '');
  } catch {
    throw new PaymentError('invalid_request', 'malformed id in the path');
  }
}

async function createPayment({ store }: RouteContext, request: IncomingMessage): Promise<Reply> {
  const key = idempotencyKey(request);
  const body = await parseBody(request, createPaymentBody);
  return { status: 200, json: await store.createPayment(key, body) };
}

async function getPayment({ store }: RouteContext, _request: IncomingMessage, params: string[]): Promise<Reply> {
  return { status: 200, json: store.getPayment(param(params)) };
}

/** Paid now (200), or, with a positive delay_ms, accepted now and paid that much later (202). */
async function pay(context: RouteContext, request: IncomingMessage, params: string[]): Promise<Reply> {
  return payWith(context, param(params), await parseBody(request, payBody));
}

async function payWith(
  { store }: RouteContext,
  id: string,
  { outcome, delay_ms }: z.infer<typeof payBody>,
): Promise<Reply> {
  if (delay_ms) return { status: 202, json: await store.schedulePay(id, outcome, delay_ms) };
  return { status: 200, json: await store.pay(id, outcome) };
}

async function showPayPage({ store }: RouteContext, _request: IncomingMessage, params: string[]): Promise<Reply> {
  return { status: 200, html: payPage(store.getPayment(param(params))) };
}

/** The pay page's buttons: the buyer's outcome, then the page again showing the result. */
async function submitPayPage(context: RouteContext, request: IncomingMessage, params: string[]): Promise<Reply> {
  try {
    const reply = await payWith(context, param(params), await parseBody(request, payBody, { acceptForm: true }));
    const payment = context.store.getPayment(param(params));
    const notice = reply.status === 202 ? 'Your payment will be processed shortly.' : undefined;
    return { status: reply.status, html: payPage(payment, notice) };
  } catch (error) {
    if (!(error instanceof PaymentError) || error.type === 'not_found') throw error;
    return { status: ERROR_STATUS[error.type], html: payPage(context.store.getPayment(param(params)), error.message) };
  }
}

async function createRefund({ store, refundOutage }: RouteContext, request: IncomingMessage): Promise<Reply> {
  if (refundOutage.failing) throw new PaymentError('refunds_unavailable', 'refunds are down (test outage)');
  const key = idempotencyKey(request);
  const body = await parseBody(request, createRefundBody);
  return { status: 200, json: await store.refund(key, body) };
}

async function listEvents(
  { store }: RouteContext,
  _request: IncomingMessage,
  _params: string[],
  url: URL,
): Promise<Reply> {
  const paymentId = url.searchParams.get('payment_id') ?? undefined;
  return { status: 200, json: { object: 'list', data: store.listEvents(paymentId) } };
}

async function redeliver({ store }: RouteContext, _request: IncomingMessage, params: string[]): Promise<Reply> {
  const eventId = param(params);
  await store.redeliver(eventId);
  return { status: 202, json: { id: eventId, redelivery: 'scheduled' } };
}

async function setRefundOutage({ refundOutage }: RouteContext, request: IncomingMessage): Promise<Reply> {
  refundOutage.failing = (await parseBody(request, outageBody)).failing;
  return { status: 200, json: { failing: refundOutage.failing } };
}

async function health(): Promise<Reply> {
  return { status: 200, json: { status: 'ok' } };
}

const ID = '([^/]+)';

export const routes: readonly Route[] = [
  { method: 'GET', path: /^\/health$/, authenticated: false, handle: health },
  { method: 'POST', path: /^\/v1\/payments$/, authenticated: true, handle: createPayment },
  { method: 'GET', path: new RegExp(`^/v1/payments/${ID}$`), authenticated: true, handle: getPayment },
  { method: 'POST', path: new RegExp(`^/v1/payments/${ID}/pay$`), authenticated: true, handle: pay },
  { method: 'POST', path: /^\/v1\/refunds$/, authenticated: true, handle: createRefund },
  { method: 'GET', path: /^\/v1\/events$/, authenticated: true, handle: listEvents },
  { method: 'POST', path: new RegExp(`^/v1/test/events/${ID}/redeliver$`), authenticated: true, handle: redeliver },
  { method: 'POST', path: /^\/v1\/test\/refunds\/outage$/, authenticated: true, handle: setRefundOutage },
  { method: 'GET', path: new RegExp(`^/pay/${ID}$`), authenticated: false, handle: showPayPage },
  { method: 'POST', path: new RegExp(`^/pay/${ID}$`), authenticated: false, handle: submitPayPage },
];

export function findRoute(method: string, pathname: string): { route: Route; params: string[] } | undefined {
  for (const route of routes) {
    const match = route.method === method ? route.path.exec(pathname) : null;
    if (match) return { route, params: match.slice(1) };
  }
  return undefined;
}
