import type { PayOutcome, SandboxEvent, SandboxPayment, SandboxRefund } from './payments.ts';

// The SDK checkout calls the sandbox with, as the stripe package is Stripe's: one method per API call, the API's
// objects returned as they come (snake_case). It makes one attempt per call; retrying is the caller's decision,
// and safe for the calls that take an idempotency key.

export interface SandboxClientOptions {
  /** E.g. `http://127.0.0.1:50640`. */
  baseUrl: string;
  apiKey: string;
  /** Per call; past it the call fails with SandboxUnavailable. Default 5 s. */
  timeoutMs?: number;
}

/**
 * The sandbox could not be reached, did not answer in time, or answered 5xx: the same call may succeed later.
 * `retriable` is what @ticket/platform's isTransientError looks for.
 */
export class SandboxUnavailable extends Error {
  readonly retriable = true;
  /** The HTTP status, when the sandbox answered. */
  readonly status: number | undefined;

  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'SandboxUnavailable';
    this.status = options.status;
  }
}

/** The sandbox refused the call (4xx): the same call will be refused again. */
export class SandboxRefused extends Error {
  readonly status: number;
  /** The API's error type, e.g. `idempotency_conflict`, `amount_too_large`, `not_found`. */
  readonly type: string;

  constructor(status: number, type: string, message: string) {
    super(message);
    this.name = 'SandboxRefused';
    this.status = status;
    this.type = type;
  }
}

export interface CreateSandboxPaymentRequest {
  amountMinor: number;
  currency: string;
  orderId: string;
  description?: string;
  /** The same key returns the same payment; the same key with another request is refused (409). */
  idempotencyKey: string;
}

export interface PaySandboxPaymentRequest {
  outcome: PayOutcome;
  /** Pay this much later: the call answers at once and the outcome (and its webhook) follows. */
  delayMs?: number;
}

export interface CreateSandboxRefundRequest {
  paymentId: string;
  amountMinor: number;
  /** The same key returns the same refund: a retried call never refunds twice. */
  idempotencyKey: string;
}

export interface SandboxClient {
  createPayment(request: CreateSandboxPaymentRequest, signal?: AbortSignal): Promise<SandboxPayment>;
  getPayment(id: string, signal?: AbortSignal): Promise<SandboxPayment>;
  /** What the buyer does on the pay page. */
  pay(id: string, request: PaySandboxPaymentRequest, signal?: AbortSignal): Promise<SandboxPayment>;
  refund(request: CreateSandboxRefundRequest, signal?: AbortSignal): Promise<SandboxRefund>;
  /** The webhook events sent so far, oldest first; those of one payment and its refunds when `paymentId` is set. */
  listEvents(filter?: { paymentId?: string }, signal?: AbortSignal): Promise<SandboxEvent[]>;
  /** Test control: deliver that event's webhook once more. */
  redeliver(eventId: string, signal?: AbortSignal): Promise<void>;
  /** Test control: while failing, refunds answer 503. */
  setRefundOutage(failing: boolean, signal?: AbortSignal): Promise<void>;
}

interface Call {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export function createSandboxClient({ baseUrl, apiKey, timeoutMs = 5_000 }: SandboxClientOptions): SandboxClient {
  const call = <T>(request: Call): Promise<T> => callSandbox<T>(baseUrl, apiKey, timeoutMs, request);
  const id = encodeURIComponent;
  return {
    createPayment: ({ amountMinor, currency, orderId, description = '', idempotencyKey }, signal) =>
      call({
        method: 'POST',
        path: '/v1/payments',
        body: { amount_minor: amountMinor, currency, order_id: orderId, description },
        idempotencyKey,
        signal,
      }),
    getPayment: (paymentId, signal) => call({ method: 'GET', path: `/v1/payments/${id(paymentId)}`, signal }),
    pay: (paymentId, { outcome, delayMs }, signal) =>
      call({ method: 'POST', path: `/v1/payments/${id(paymentId)}/pay`, body: { outcome, delay_ms: delayMs }, signal }),
    refund: ({ paymentId, amountMinor, idempotencyKey }, signal) =>
      call({
        method: 'POST',
        path: '/v1/refunds',
        body: { payment_id: paymentId, amount_minor: amountMinor },
        idempotencyKey,
        signal,
      }),
    listEvents: async ({ paymentId } = {}, signal) => {
      const query = paymentId === undefined ? '' : `?payment_id=${id(paymentId)}`;
      const list = await call<{ data: SandboxEvent[] }>({ method: 'GET', path: `/v1/events${query}`, signal });
      return list.data;
    },
    redeliver: async (eventId, signal) => {
      await call({ method: 'POST', path: `/v1/test/events/${id(eventId)}/redeliver`, signal });
    },
    setRefundOutage: async (failing, signal) => {
      await call({ method: 'POST', path: '/v1/test/refunds/outage', body: { failing }, signal });
    },
  };
}

async function callSandbox<T>(baseUrl: string, apiKey: string, timeoutMs: number, call: Call): Promise<T> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const headers: Record<string, string> = { authorization: `Bearer ${apiKey}` };
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  if (call.idempotencyKey !== undefined) headers['idempotency-key'] = call.idempotencyKey;
  let response: Response;
  let text: string;
  try {
    response = await fetch(new URL(call.path, baseUrl), {
      method: call.method,
      headers,
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
      signal: call.signal ? AbortSignal.any([timeout, call.signal]) : timeout,
    });
    text = await response.text();
  } catch (error) {
    // The caller's own cancellation (its deadline) is its error to see, not the sandbox's unavailability.
    if (call.signal?.aborted) throw call.signal.reason;
    const reason = timeout.aborted ? `no answer within ${timeoutMs} ms` : describeFetchError(error);
    throw new SandboxUnavailable(`${call.method} ${call.path}: ${reason}`, { cause: error });
  }
  if (response.status >= 500) {
    throw new SandboxUnavailable(`${call.method} ${call.path}: HTTP ${response.status} ${errorOf(text).message}`, {
      status: response.status,
    });
  }
  if (response.status >= 400) {
    const { type, message } = errorOf(text);
    throw new SandboxRefused(response.status, type, `${call.method} ${call.path}: ${message}`);
  }
  return JSON.parse(text) as T;
}

/** The `{ error: { type, message } }` body, or what can be said without one (a proxy's page, say). */
function errorOf(text: string): { type: string; message: string } {
  try {
    const { error } = JSON.parse(text) as { error?: { type?: unknown; message?: unknown } };
    if (typeof error?.type === 'string') return { type: error.type, message: String(error.message ?? error.type) };
  } catch {
    // Not JSON: fall through.
  }
  return { type: 'unknown', message: text.slice(0, 200) };
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
