import { type OrderEvent, OrderEventType } from '@ticket/contracts/v1/checkout/order_events';
import {
  Channel as ChannelMessage,
  DeliveryStatus as DeliveryStatusMessage,
  NotificationKind as NotificationKindMessage,
  type Notification as NotificationMessage,
} from '@ticket/contracts/v1/notification/notification_service';
import type { Channel, DeliveryStatus, Notification, NotificationKind } from './domain/notification.ts';
import type { OrderChange } from './domain/order-change.ts';

// Contract ↔ domain: the Kafka payload in, the gRPC message out.

const kindOfEventType: Partial<Record<OrderEventType, NotificationKind>> = {
  [OrderEventType.ORDER_EVENT_TYPE_CREATED]: 'CREATED',
  [OrderEventType.ORDER_EVENT_TYPE_PAID]: 'PAID',
  [OrderEventType.ORDER_EVENT_TYPE_CANCELLED]: 'CANCELLED',
  [OrderEventType.ORDER_EVENT_TYPE_EXPIRED]: 'EXPIRED',
  [OrderEventType.ORDER_EVENT_TYPE_FAILED]: 'FAILED',
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
 * UnusableEventError for an event no notification can come from (unknown type, no order, no order or user id).
 */
export function toOrderChange(eventId: string, event: OrderEvent): OrderChange {
  const kind = kindOfEventType[event.eventType];
  if (kind === undefined) throw new UnusableEventError(`unknown order event type ${event.eventType}`);
  const order = event.order;
  if (order === undefined) throw new UnusableEventError('order event without an order');
  if (!UUID.test(order.id)) throw new UnusableEventError('order event whose order.id is not a UUID');
  if (order.userId.trim() === '') throw new UnusableEventError('order event without order.user_id');
  return {
    eventId,
    kind,
    occurredAt: event.occurredAt ?? order.updatedAt ?? new Date(),
    orderId: order.id.toLowerCase(),
    userId: order.userId,
    email: order.email,
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
    tickets: order.tickets.map((ticket) => ({ code: ticket.code, ticketTypeId: ticket.ticketTypeId })),
    failureReason: order.failureReason,
    refundPaymentReference: event.refundPaymentReference,
  };
}

const kindToProto: Record<NotificationKind, NotificationKindMessage> = {
  CREATED: NotificationKindMessage.NOTIFICATION_KIND_ORDER_CREATED,
  PAID: NotificationKindMessage.NOTIFICATION_KIND_ORDER_PAID,
  CANCELLED: NotificationKindMessage.NOTIFICATION_KIND_ORDER_CANCELLED,
  EXPIRED: NotificationKindMessage.NOTIFICATION_KIND_ORDER_EXPIRED,
  FAILED: NotificationKindMessage.NOTIFICATION_KIND_ORDER_FAILED,
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
