import {
  type Cart as CartMessage,
  type Order as OrderMessage,
  OrderStatus as OrderStatusMessage,
  type PaymentSession as PaymentSessionMessage,
  type Refund as RefundMessage,
  RefundReason as RefundReasonMessage,
  RefundStatus as RefundStatusMessage,
} from '@ticket/contracts/v1/checkout/checkout_service';
import { type CartLine, type Order, type OrderStatus, singleCurrency, totalOf } from './domain/order.ts';
import type { Payment, Refund, RefundReason } from './domain/payment.ts';

// Domain ↔ contract, for the gRPC handlers and the Kafka events alike.

const statusToProto: Record<OrderStatus, OrderStatusMessage> = {
  CREATED: OrderStatusMessage.ORDER_STATUS_CREATED,
  PAID: OrderStatusMessage.ORDER_STATUS_PAID,
  CANCELLED: OrderStatusMessage.ORDER_STATUS_CANCELLED,
  EXPIRED: OrderStatusMessage.ORDER_STATUS_EXPIRED,
  FAILED: OrderStatusMessage.ORDER_STATUS_FAILED,
  REFUNDED: OrderStatusMessage.ORDER_STATUS_REFUNDED,
  PARTIALLY_REFUNDED: OrderStatusMessage.ORDER_STATUS_PARTIALLY_REFUNDED,
};

const reasonToProto: Record<RefundReason, RefundReasonMessage> = {
  REQUESTED: RefundReasonMessage.REFUND_REASON_REQUESTED,
  LATE_PAYMENT: RefundReasonMessage.REFUND_REASON_LATE_PAYMENT,
  DUPLICATE_PAYMENT: RefundReasonMessage.REFUND_REASON_DUPLICATE_PAYMENT,
};

/** Paid orders, and those refunded since, show the payment that paid them. */
const PAID_STATUSES: ReadonlySet<OrderStatus> = new Set(['PAID', 'REFUNDED', 'PARTIALLY_REFUNDED']);

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
    paymentReference: PAID_STATUSES.has(order.status) ? (order.paymentReference ?? '') : '',
    tickets: order.tickets.map((ticket) => ({ ...ticket })),
    failureReason: order.status === 'FAILED' ? (order.failureReason ?? '') : '',
    payment: order.payment ? toPaymentSessionMessage(order.payment) : undefined,
    refunds: order.refunds.map(toRefundMessage),
  };
}

export const toPaymentSessionMessage = (payment: Payment): PaymentSessionMessage => ({
  provider: payment.provider,
  paymentId: payment.id,
  clientSecret: payment.clientSecret,
  payUrl: payment.payUrl,
});

export const toRefundMessage = (refund: Refund): RefundMessage => ({
  id: refund.id,
  paymentId: refund.paymentId,
  amount: money(refund.amountMinor, refund.currency),
  reason: reasonToProto[refund.reason],
  status:
    refund.status === 'SUCCEEDED'
      ? RefundStatusMessage.REFUND_STATUS_SUCCEEDED
      : RefundStatusMessage.REFUND_STATUS_PENDING,
  ticketCodes: [...refund.ticketCodes],
  createdAt: refund.createdAt,
  refundedAt: refund.refundedAt ?? undefined,
});
