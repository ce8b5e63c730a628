// Pure types and rules of payments and refunds; no I/O here.

/** A payment created at the provider for an order, as checkout knows it. */
export interface Payment {
  provider: string;
  /** The provider's id. */
  id: string;
  orderId: string;
  amountMinor: number;
  currency: string;
  status: 'CREATED' | 'SUCCEEDED' | 'FAILED';
  clientSecret: string;
  payUrl: string;
}

export type RefundReason = 'REQUESTED' | 'LATE_PAYMENT' | 'DUPLICATE_PAYMENT';

/** Money to return through the provider (see the refunds table for its states). */
export interface Refund {
  id: string;
  orderId: string;
  provider: string;
  paymentId: string;
  amountMinor: number;
  currency: string;
  reason: RefundReason;
  status: 'PENDING' | 'SUCCEEDED';
  ticketCodes: string[];
  providerRefundId: string | null;
  attempts: number;
  createdAt: Date;
  refundedAt: Date | null;
  completedAt: Date | null;
}

/**
 * Whether a payment the provider says succeeded may pay the order: the same amount in the same currency. Anything
 * else (a tampered or mistaken amount) is not accepted, and the order stays unpaid.
 */
export const paysInFull = (
  payment: { amountMinor: number; currency: string },
  order: { totalMinor: number; currency: string },
): boolean => payment.amountMinor === order.totalMinor && payment.currency.toUpperCase() === order.currency;

/**
 * When to try a refund again after `attempts` failures: doubling from 5 s up to 10 minutes, so a provider that is
 * down for a while is asked every few minutes, not hammered.
 */
export function nextRefundAttemptDelayMs(attempts: number): number {
  return Math.min(5_000 * 2 ** Math.max(0, attempts - 1), 10 * 60_000);
}

/** The status of a paid order once `voided` of its `total` tickets are refunded. */
export const statusAfterRefund = (voided: number, total: number): 'REFUNDED' | 'PARTIALLY_REFUNDED' =>
  voided >= total ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
