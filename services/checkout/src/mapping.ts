import {
  type Cart as CartMessage,
  type Order as OrderMessage,
  OrderStatus as OrderStatusMessage,
} from '@ticket/contracts/v1/checkout/checkout_service';
import { type CartLine, type Order, type OrderStatus, singleCurrency, totalOf } from './domain/order.ts';

// Domain ↔ contract, for the gRPC handlers and the Kafka events alike.

const statusToProto: Record<OrderStatus, OrderStatusMessage> = {
  CREATED: OrderStatusMessage.ORDER_STATUS_CREATED,
  PAID: OrderStatusMessage.ORDER_STATUS_PAID,
  CANCELLED: OrderStatusMessage.ORDER_STATUS_CANCELLED,
  EXPIRED: OrderStatusMessage.ORDER_STATUS_EXPIRED,
  FAILED: OrderStatusMessage.ORDER_STATUS_FAILED,
};

const money = (amountMinor: number, currency: string) => ({ amountMinor, currency });

export function toCartMessage(userId: string, lines: readonly CartLine[]): CartMessage {
  const currency = lines.length === 0 ? undefined : safeCurrency(lines);
  return {
    userId,
    items: lines.map((line) => ({
      eventId: line.eventId,
      ticketTypeId: line.ticketTypeId,
      ticketTypeName: line.ticketTypeName,
      unitPrice: money(line.unitPriceMinor, line.currency),
      quantity: line.quantity,
    })),
    total: currency === undefined ? undefined : money(totalOf(lines), currency),
  };
}

/** A cart is kept in one currency; should one still mix (a price changed currency), show it without a total. */
function safeCurrency(lines: readonly CartLine[]): string | undefined {
  try {
    return singleCurrency(lines);
  } catch {
    return undefined;
  }
}

export function toOrderMessage(order: Order): OrderMessage {
  return {
    id: order.id,
    userId: order.userId,
    email: order.email,
    status: statusToProto[order.status],
    items: order.items.map((item) => ({
      eventId: item.eventId,
      ticketTypeId: item.ticketTypeId,
      ticketTypeName: item.ticketTypeName,
      unitPrice: money(item.unitPriceMinor, item.currency),
      quantity: item.quantity,
    })),
    total: money(order.totalMinor, order.currency),
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
    expiresAt: order.expiresAt,
    paidAt: order.paidAt ?? undefined,
    paymentReference: order.status === 'PAID' ? (order.paymentReference ?? '') : '',
    tickets: order.tickets.map((ticket) => ({ ...ticket })),
    failureReason: order.status === 'FAILED' ? (order.failureReason ?? '') : '',
  };
}
