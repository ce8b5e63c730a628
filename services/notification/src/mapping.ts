import {
  OrderStatus as OrderStatusMessage,
  type Refund as RefundMessage,
  RefundReason as RefundReasonMessage,
} from '@ticket/contracts/v1/checkout/checkout_service';
import { type OrderEvent, OrderEventType } from '@ticket/contracts/v1/checkout/order_events';
import {
  Channel as ChannelMessage,
  DeliveryStatus as DeliveryStatusMessage,
  NotificationKind as NotificationKindMessage,
  type Notification as NotificationMessage,
} from '@ticket/contracts/v1/notification/notification_service';
import type { Channel, DeliveryStatus, Notification, NotificationKind } from './domain/notification.ts';
import {
  type OrderChange,
  type OrderStatus,
  REFUND_KINDS,
  type Refund,
  type RefundReason,
} from './domain/order-change.ts';

// Contract ↔ domain: the Kafka payload in, the gRPC message out.

const kindOfEventType: Partial<Record<OrderEventType, NotificationKind>> = {
  [OrderEventType.ORDER_EVENT_TYPE_CREATED]: 'CREATED',
  [OrderEventType.ORDER_EVENT_TYPE_PAID]: 'PAID',
  [OrderEventType.ORDER_EVENT_TYPE_CANCELLED]: 'CANCELLED',
  [OrderEventType.ORDER_EVENT_TYPE_EXPIRED]: 'EXPIRED',
  [OrderEventType.ORDER_EVENT_TYPE_FAILED]: 'FAILED',
  [OrderEventType.ORDER_EVENT_TYPE_PAYMENT_FAILED]: 'PAYMENT_FAILED',
  [OrderEventType.ORDER_EVENT_TYPE_REFUNDED]: 'REFUNDED',
  [OrderEventType.ORDER_EVENT_TYPE_LATE_PAYMENT_REFUNDED]: 'LATE_PAYMENT_REFUNDED',
};

const statusOfMessage: Partial<Record<OrderStatusMessage, OrderStatus>> = {
  [OrderStatusMessage.ORDER_STATUS_CREATED]: 'CREATED',
  [OrderStatusMessage.ORDER_STATUS_PAID]: 'PAID',
  [OrderStatusMessage.ORDER_STATUS_CANCELLED]: 'CANCELLED',
  [OrderStatusMessage.ORDER_STATUS_EXPIRED]: 'EXPIRED',
  [OrderStatusMessage.ORDER_STATUS_FAILED]: 'FAILED',
  [OrderStatusMessage.ORDER_STATUS_REFUNDED]: 'REFUNDED',
  [OrderStatusMessage.ORDER_STATUS_PARTIALLY_REFUNDED]: 'PARTIALLY_REFUNDED',
};

const reasonOfMessage: Partial<Record<RefundReasonMessage, RefundReason>> = {
  [RefundReasonMessage.REFUND_REASON_REQUESTED]: 'REQUESTED',
  [RefundReasonMessage.REFUND_REASON_LATE_PAYMENT]: 'LATE_PAYMENT',
  [RefundReasonMessage.REFUND_REASON_DUPLICATE_PAYMENT]: 'DUPLICATE_PAYMENT',
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Why an event cannot be turned into a notification; the consumer dead-letters such a message. */
export class UnusableEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnusableEventError';
  }
}

/**
 * The order change an OrderEvent announces. `eventId` is the event-id header the consumer deduplicates on. Throws
 * UnusableEventError for an event no notification can come from (unknown type, no order, no order or user id, a
 * refund event that names no refund).
 */
export function toOrderChange(eventId: string, event: OrderEvent): OrderChange {
  const kind = kindOfEventType[event.eventType];
  if (kind === undefined) throw new UnusableEventError(`unknown order event type ${event.eventType}`);
  const order = event.order;
  if (order === undefined) throw new UnusableEventError('order event without an order');
  if (!UUID.test(order.id)) throw new UnusableEventError('order event whose order.id is not a UUID');
  if (order.userId.trim() === '') throw new UnusableEventError('order event without order.user_id');
  const refund = REFUND_KINDS.has(kind) ? toRefund(event.refund) : null;
  return {
    eventId,
    kind,
    occurredAt: event.occurredAt ?? order.updatedAt ?? new Date(),
    orderId: order.id.toLowerCase(),
    userId: order.userId,
    email: order.email,
    status: statusOfMessage[order.status] ?? 'UNKNOWN',
    lines: order.items.map((item) => ({
      ticketTypeId: item.ticketTypeId,
      ticketTypeName: item.ticketTypeName,
      unitPrice: item.unitPrice ?? { amountMinor: 0, currency: order.total?.currency ?? '' },
      quantity: item.quantity,
    })),
    total: order.total ?? { amountMinor: 0, currency: '' },
    expiresAt: order.expiresAt ?? null,
    paidAt: order.paidAt ?? null,
    paymentReference: order.paymentReference,
    payUrl: order.payment?.payUrl ?? '',
    tickets: order.tickets.map((ticket) => ({
      code: ticket.code,
      ticketTypeId: ticket.ticketTypeId,
      voided: ticket.voided,
    })),
    failureReason: order.failureReason,
    refundPaymentReference: event.refundPaymentReference,
    refund,
  };
}

/**
 * The refund a refund event names. Without its id the change cannot be told apart from the order's other refunds,
 * and without its amount the email could not say how much came back: such an event is unusable.
 */
function toRefund(message: RefundMessage | undefined): Refund {
  if (message === undefined || message.id.trim() === '') throw new UnusableEventError('refund event without a refund');
  if (message.amount === undefined) throw new UnusableEventError('refund event without refund.amount');
  return {
    id: message.id,
    paymentId: message.paymentId,
    amount: message.amount,
    reason: reasonOfMessage[message.reason] ?? 'UNSPECIFIED',
    ticketCodes: message.ticketCodes,
    refundedAt: message.refundedAt ?? null,
  };
}

const kindToProto: Record<NotificationKind, NotificationKindMessage> = {
  CREATED: NotificationKindMessage.NOTIFICATION_KIND_ORDER_CREATED,
  PAID: NotificationKindMessage.NOTIFICATION_KIND_ORDER_PAID,
  CANCELLED: NotificationKindMessage.NOTIFICATION_KIND_ORDER_CANCELLED,
  EXPIRED: NotificationKindMessage.NOTIFICATION_KIND_ORDER_EXPIRED,
  FAILED: NotificationKindMessage.NOTIFICATION_KIND_ORDER_FAILED,
  PAYMENT_FAILED: NotificationKindMessage.NOTIFICATION_KIND_ORDER_PAYMENT_FAILED,
  REFUNDED: NotificationKindMessage.NOTIFICATION_KIND_ORDER_REFUNDED,
  LATE_PAYMENT_REFUNDED: NotificationKindMessage.NOTIFICATION_KIND_LATE_PAYMENT_REFUNDED,
};

const channelToProto: Record<Channel, ChannelMessage> = {
  EMAIL: ChannelMessage.CHANNEL_EMAIL,
  LOG: ChannelMessage.CHANNEL_LOG,
};

const statusToProto: Record<DeliveryStatus, DeliveryStatusMessage> = {
  PENDING: DeliveryStatusMessage.DELIVERY_STATUS_PENDING,
  SENT: DeliveryStatusMessage.DELIVERY_STATUS_SENT,
  FAILED: DeliveryStatusMessage.DELIVERY_STATUS_FAILED,
  SKIPPED: DeliveryStatusMessage.DELIVERY_STATUS_SKIPPED,
};

export const toNotificationMessage = (notification: Notification): NotificationMessage => ({
  id: notification.id,
  userId: notification.userId,
  orderId: notification.orderId,
  sourceEventId: notification.sourceEventId,
  kind: kindToProto[notification.kind],
  channel: channelToProto[notification.channel],
  status: statusToProto[notification.status],
  recipient: notification.recipient,
  subject: notification.subject,
  attempts: notification.attempts,
  error: notification.lastError ?? '',
  createdAt: notification.createdAt,
  sentAt: notification.sentAt ?? undefined,
});
