// The payment provider port: how checkout takes and returns money, whoever the provider is (the sandbox PSP for
// development and tests, Stripe in production). Adapters live beside this file; the app layer sees only this.

/** An amount in minor units (cents) of an ISO 4217 currency, as everywhere in checkout. */
export interface Amount {
  amountMinor: number;
  currency: string;
}

export interface CreatePaymentRequest {
  orderId: string;
  amount: Amount;
  /** The same key gives the same payment, however often the call is repeated (the order id, for PlaceOrder). */
  idempotencyKey: string;
  /** For the buyer's receipt and the provider's dashboard. */
  description: string;
}

/** What a client needs to take the buyer to the provider: the proto's PaymentSession. */
export interface PaymentSession {
  provider: string;
  /** The provider's id of the payment (a Stripe PaymentIntent id). */
  paymentId: string;
  /** For the provider's client-side SDK; empty where there is none. */
  clientSecret: string;
  /** A page where the buyer pays; empty where the client SDK is used instead. */
  payUrl: string;
}

export interface RefundRequest {
  paymentId: string;
  amount: Amount;
  /** Our refund's id: repeating the call never refunds twice. */
  idempotencyKey: string;
}

/** The provider's answer to a refund: done, or accepted and to be confirmed by a webhook. */
export interface RefundResult {
  refundId: string;
  status: 'succeeded' | 'pending';
}

/**
 * A verified webhook, in checkout's terms. `eventId` is the provider's id of the notification: the same event
 * delivered again has the same id. Events checkout does not act on are `ignored`, still acknowledged.
 */
export type PaymentEvent =
  | {
      kind: 'payment_succeeded' | 'payment_failed';
      eventId: string;
      paymentId: string;
      /** The order the payment was created for (its metadata), when the provider says. */
      orderId: string | undefined;
      amount: Amount;
      /** Why a payment failed, for people. */
      failureReason?: string;
    }
  | { kind: 'refund_succeeded' | 'refund_failed'; eventId: string; paymentId: string; refundId: string; amount: Amount }
  | { kind: 'ignored'; eventId: string; type: string };

/** Thrown by `parseWebhook` for a body whose signature does not verify: answered 400, nothing changes. */
export class InvalidWebhookSignature extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidWebhookSignature';
  }
}

/**
 * A payment service provider. Transport failures and the provider's 5xx are thrown as errors that
 * `isTransientError` recognises or as `ProviderUnavailable`, so callers retry them; anything else the provider
 * refuses is thrown as `ProviderRefused`.
 */
export interface PaymentProvider {
  readonly name: string;
  createPayment(request: CreatePaymentRequest, signal?: AbortSignal): Promise<PaymentSession>;
  refund(request: RefundRequest, signal?: AbortSignal): Promise<RefundResult>;
  /** Verifies the signature of a webhook's raw body and reads it; throws InvalidWebhookSignature. */
  parseWebhook(rawBody: Buffer, headers: Readonly<Record<string, string | string[] | undefined>>): PaymentEvent;
}

/** The provider could not be reached, timed out or answered 5xx / 429: try again later. */
export class ProviderUnavailable extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ProviderUnavailable';
  }
}

/** The provider refused the request for good (4xx other than 429): retrying the same request will not help. */
export class ProviderRefused extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ProviderRefused';
  }
}
