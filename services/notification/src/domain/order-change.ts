import type { NotificationKind } from './notification.ts';

// What a notification is about: the order as the event's snapshot describes it, without protobuf types.

export interface Money {
  amountMinor: number;
  currency: string;
}

export interface OrderLine {
  ticketTypeId: string;
  ticketTypeName: string;
  unitPrice: Money;
  quantity: number;
}

export interface IssuedTicket {
  code: string;
  ticketTypeId: string;
  /** Refunded: the code no longer admits anyone. */
  voided: boolean;
}

/** The order's status after the change; UNKNOWN for a status this service does not know yet. */
export type OrderStatus =
  | 'CREATED'
  | 'PAID'
  | 'CANCELLED'
  | 'EXPIRED'
  | 'FAILED'
  | 'REFUNDED'
  | 'PARTIALLY_REFUNDED'
  | 'UNKNOWN';

/** Why money was returned: asked for (RefundOrder), or a payment that bought nothing. */
export type RefundReason = 'REQUESTED' | 'LATE_PAYMENT' | 'DUPLICATE_PAYMENT' | 'UNSPECIFIED';

/** A refund the provider has paid back, as a REFUNDED or LATE_PAYMENT_REFUNDED event names it. */
export interface Refund {
  id: string;
  /** The provider's id of the payment refunded. */
  paymentId: string;
  amount: Money;
  reason: RefundReason;
  /** The tickets it voided; empty for a payment that bought nothing. */
  ticketCodes: string[];
  refundedAt: Date | null;
}

export interface OrderChange {
  /** Id of the event that announced the change. */
  eventId: string;
  kind: NotificationKind;
  occurredAt: Date;
  orderId: string;
  userId: string;
  email: string;
  status: OrderStatus;
  lines: OrderLine[];
  total: Money;
  expiresAt: Date | null;
  paidAt: Date | null;
  paymentReference: string;
  /** The provider's page where the buyer pays; empty when there is none (box office, a client SDK). */
  payUrl: string;
  tickets: IssuedTicket[];
  failureReason: string;
  /** A payment that arrived too late and will be refunded; empty when none. */
  refundPaymentReference: string;
  /** The refund a REFUNDED or LATE_PAYMENT_REFUNDED change announces; null for the other kinds. */
  refund: Refund | null;
}

/** The kinds whose change is a refund: the event must name it. */
export const REFUND_KINDS: ReadonlySet<NotificationKind> = new Set(['REFUNDED', 'LATE_PAYMENT_REFUNDED']);

/**
 * What tells one change apart from another change of the same order and kind, for the unique
 * (order_id, kind, change_key) that keeps the same change announced under a new event id from being sent twice.
 * An order reaches a status once, so those kinds need no key (''). An order can be refunded several times (some
 * tickets, then others; several late payments), so a refund is keyed by its id. A payment can be declined again and
 * again, and checkout announces each declined attempt once; the event id is all that tells attempts apart.
 */
export function changeKeyOf(change: OrderChange): string {
  if (REFUND_KINDS.has(change.kind)) return refundOf(change).id;
  if (change.kind === 'PAYMENT_FAILED') return change.eventId;
  return '';
}

/** The refund of a refund change; the mapping refuses refund events without one, so its absence is a bug. */
export function refundOf(change: OrderChange): Refund {
  if (change.refund === null) throw new Error(`a ${change.kind} change of order ${change.orderId} without a refund`);
  return change.refund;
}
