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
}

export interface OrderChange {
  /** Id of the event that announced the change. */
  eventId: string;
  kind: NotificationKind;
  occurredAt: Date;
  orderId: string;
  userId: string;
  email: string;
  lines: OrderLine[];
  total: Money;
  expiresAt: Date | null;
  paidAt: Date | null;
  paymentReference: string;
  tickets: IssuedTicket[];
  failureReason: string;
  /** A payment that arrived too late and will be refunded; empty when none. */
  refundPaymentReference: string;
}
