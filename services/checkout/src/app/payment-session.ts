import { failedPrecondition, unavailable } from '@ticket/platform';
import { insertPayment } from '../db/payment-repository.ts';
import type { Order } from '../domain/order.ts';
import type { Payment } from '../domain/payment.ts';
import { ProviderRefused, ProviderUnavailable } from '../payments/provider.ts';
import type { CheckoutContext } from './context.ts';

/**
 * The order with its payment at the provider, created now if it has none: what the buyer needs to pay. The order
 * id is the idempotency key, so a repeat (a retried PlaceOrder, two replicas at once) gets the same payment. While
 * the provider cannot be reached the order stays CREATED without one, and the caller gets UNAVAILABLE: PlaceOrder
 * again with the same key picks up the order and tries the payment again.
 */
export async function withPaymentSession(context: CheckoutContext, order: Order, signal?: AbortSignal): Promise<Order> {
  // A free order has nothing to pay; the box office completes it (MarkOrderAsPaid).
  if (order.status !== 'CREATED' || order.payment !== null || order.totalMinor === 0) return order;
  const session = await context.payments
    .createPayment(
      {
        orderId: order.id,
        amount: { amountMinor: order.totalMinor, currency: order.currency },
        idempotencyKey: order.id,
        description: `Tickets, order ${order.id}`,
      },
      signal,
    )
    .catch((error: unknown) => {
      throw asDomainError(error, order.id);
    });
  const payment: Payment = {
    provider: session.provider,
    id: session.paymentId,
    orderId: order.id,
    amountMinor: order.totalMinor,
    currency: order.currency,
    status: 'CREATED',
    clientSecret: session.clientSecret,
    payUrl: session.payUrl,
  };
  await insertPayment(context.db, payment);
  return { ...order, payment };
}

function asDomainError(error: unknown, orderId: string): unknown {
  if (error instanceof ProviderUnavailable) {
    return unavailable(
      `order ${orderId} is placed, but the payment provider cannot be reached: PlaceOrder again with the same idempotency_key`,
    );
  }
  if (error instanceof ProviderRefused) {
    return failedPrecondition(`the payment provider refused a payment for order ${orderId}: ${error.message}`);
  }
  return error;
}
