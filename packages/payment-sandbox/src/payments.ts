// The objects the sandbox API returns and its webhooks carry (snake_case on the wire, as a PSP's JSON is), and
// the rules of their state changes. Pure: no I/O, so the store and the tests can lean on them.

export type PaymentStatus = 'requires_payment' | 'succeeded' | 'failed' | 'refunded' | 'partially_refunded';

/** What the buyer does on the pay page: pay, or have the card declined. */
export type PayOutcome = 'succeed' | 'decline';

// Type aliases rather than interfaces: a receiver may read them as a plain Record<string, unknown>.
export type SandboxPayment = {
  id: string;
  object: 'payment';
  status: PaymentStatus;
  /** Integer minor units (cents) of `currency`. */
  amount_minor: number;
  amount_refunded_minor: number;
  /** ISO 4217, upper case. */
  currency: string;
  order_id: string;
  description: string;
  /** The page where the buyer pays. */
  pay_url: string;
  /** Why the last attempt failed; null unless status is failed. */
  failure_reason: 'card_declined' | null;
  /** Unix seconds. */
  created: number;
};

export type SandboxRefund = {
  id: string;
  object: 'refund';
  payment_id: string;
  /** The refunded payment's order, so a receiver need not look the payment up. */
  order_id: string;
  amount_minor: number;
  currency: string;
  status: 'succeeded';
  created: number;
};

interface EventBase {
  id: string;
  object: 'event';
  created: number;
}

/** A webhook event: the object as it was when the change happened, not as it is when a retry delivers it. */
export type SandboxEvent =
  | (EventBase & { type: 'payment.succeeded' | 'payment.failed'; data: { object: SandboxPayment } })
  | (EventBase & { type: 'refund.succeeded'; data: { object: SandboxRefund } });

export type SandboxEventType = SandboxEvent['type'];

/** How the sandbox refuses a request; the server answers each type with its HTTP status (see ERROR_STATUS). */
export type PaymentErrorType =
  | 'invalid_request'
  | 'unauthorized'
  | 'not_found'
  | 'idempotency_conflict'
  | 'payment_already_succeeded'
  | 'payment_not_refundable'
  | 'amount_too_large'
  | 'refunds_unavailable';

export class PaymentError extends Error {
  readonly type: PaymentErrorType;

  constructor(type: PaymentErrorType, message: string) {
    super(message);
    this.name = 'PaymentError';
    this.type = type;
  }
}

/** Never paid, or declined: the buyer may (try to) pay. Once it succeeded, paying again would charge twice. */
export const isPayable = (payment: SandboxPayment): boolean =>
  payment.status === 'requires_payment' || payment.status === 'failed';

export function assertPayable(payment: SandboxPayment): void {
  if (!isPayable(payment)) {
    throw new PaymentError('payment_already_succeeded', `payment ${payment.id} is already ${payment.status}`);
  }
}

/** The payment after the buyer's attempt, and the event that tells the merchant. */
export function applyPayOutcome(
  payment: SandboxPayment,
  outcome: PayOutcome,
): { payment: SandboxPayment; eventType: 'payment.succeeded' | 'payment.failed' } {
  assertPayable(payment);
  return outcome === 'succeed'
    ? { payment: { ...payment, status: 'succeeded', failure_reason: null }, eventType: 'payment.succeeded' }
    : { payment: { ...payment, status: 'failed', failure_reason: 'card_declined' }, eventType: 'payment.failed' };
}

export const unrefundedMinor = (payment: SandboxPayment): number =>
  payment.amount_minor - payment.amount_refunded_minor;

/** The payment after returning `amountMinor` of it: refunded when nothing is left, else partially refunded. */
export function applyRefund(payment: SandboxPayment, amountMinor: number): SandboxPayment {
  if (payment.status === 'requires_payment' || payment.status === 'failed') {
    throw new PaymentError('payment_not_refundable', `payment ${payment.id} is ${payment.status}: nothing was paid`);
  }
  const left = unrefundedMinor(payment);
  if (amountMinor > left) {
    throw new PaymentError(
      'amount_too_large',
      `refund of ${amountMinor} exceeds the ${left} ${payment.currency} not yet refunded of payment ${payment.id}`,
    );
  }
  const refunded = payment.amount_refunded_minor + amountMinor;
  return {
    ...payment,
    amount_refunded_minor: refunded,
    status: refunded === payment.amount_minor ? 'refunded' : 'partially_refunded',
  };
}
