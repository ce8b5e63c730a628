import { randomUUID } from 'node:crypto';
import { EventTypeHeader } from '@ticket/contracts/topology';
import { OrderEvent, OrderEventType } from '@ticket/contracts/v1/checkout/order_events';
import { addToOutbox, type Executor } from '@ticket/platform';
import { outbox } from '../db/schema.ts';
import type { OrderEventType as DomainEventType, Order } from '../domain/order.ts';
import type { Refund } from '../domain/payment.ts';
import { toOrderMessage, toRefundMessage } from '../mapping.ts';

/** The event-type header of each order event. */
export const ORDER_EVENT_TYPES: Record<DomainEventType, string> = {
  CREATED: EventTypeHeader.orderCreated,
  PAID: EventTypeHeader.orderPaid,
  CANCELLED: EventTypeHeader.orderCancelled,
  EXPIRED: EventTypeHeader.orderExpired,
  FAILED: EventTypeHeader.orderFailed,
  PAYMENT_FAILED: EventTypeHeader.orderPaymentFailed,
  REFUNDED: EventTypeHeader.orderRefunded,
  LATE_PAYMENT_REFUNDED: EventTypeHeader.latePaymentRefunded,
};

const typeToProto: Record<DomainEventType, OrderEventType> = {
  CREATED: OrderEventType.ORDER_EVENT_TYPE_CREATED,
  PAID: OrderEventType.ORDER_EVENT_TYPE_PAID,
  CANCELLED: OrderEventType.ORDER_EVENT_TYPE_CANCELLED,
  EXPIRED: OrderEventType.ORDER_EVENT_TYPE_EXPIRED,
  FAILED: OrderEventType.ORDER_EVENT_TYPE_FAILED,
  PAYMENT_FAILED: OrderEventType.ORDER_EVENT_TYPE_PAYMENT_FAILED,
  REFUNDED: OrderEventType.ORDER_EVENT_TYPE_REFUNDED,
  LATE_PAYMENT_REFUNDED: OrderEventType.ORDER_EVENT_TYPE_LATE_PAYMENT_REFUNDED,
};

/**
 * Writes the OrderEvent announcing `order`'s change into the outbox, in the transaction that made the change (so
 * it exists if and only if the change committed), keyed by order id so one order's events stay in order.
 */
export async function recordOrderEvent(
  tx: Executor,
  topic: string,
  type: DomainEventType,
  order: Order,
  { refundPaymentReference = '', refund }: { refundPaymentReference?: string; refund?: Refund } = {},
): Promise<void> {
  const event = OrderEvent.fromPartial({
    eventId: randomUUID(),
    eventType: typeToProto[type],
    occurredAt: refund?.refundedAt ?? order.updatedAt,
    order: toOrderMessage(order),
    refundPaymentReference,
    refund: refund ? toRefundMessage(refund) : undefined,
  });
  await addToOutbox(tx, outbox, [
    {
      topic,
      key: order.id,
      eventId: event.eventId,
      eventType: ORDER_EVENT_TYPES[type],
      payload: OrderEvent.encode(event).finish(),
    },
  ]);
}
