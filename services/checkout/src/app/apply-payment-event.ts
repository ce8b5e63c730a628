import { isDomainError } from '@ticket/platform';
import { findOrder } from '../db/order-repository.ts';
import { findPayment, recordWebhookEvent, setPaymentStatus } from '../db/payment-repository.ts';
import type { Order } from '../domain/order.ts';
import { type Payment, paysInFull } from '../domain/payment.ts';
import { recordOrderEvent } from '../events/order-events.ts';
import type { PaymentEvent } from '../payments/provider.ts';
import type { CheckoutContext } from './context.ts';
import { payOrder } from './mark-order-as-paid.ts';
import { refundPaymentThatBoughtNothing, settleRefundConfirmed } from './refunds.ts';

/**
 * What the provider's webhook said, applied exactly once per payment however many times, in whatever order and
 * however late it arrives. Each outcome is idempotent by the payment (not by the delivery): a succeeded payment pays
 * the order once (a repeat finds it PAID by this payment) or, when it bought nothing, is refunded once (one
 * automatic refund per payment). Returns what checkout made of it, which is recorded with the event's id.
 * Throws on what is worth retrying (the database or booking down): the webhook is then answered 5xx and redelivered.
 */
export async function applyPaymentEvent(context: CheckoutContext, event: PaymentEvent): Promise<string> {
  const outcome = await outcomeOf(context, event);
  const paymentId = event.kind === 'ignored' ? null : event.paymentId;
  await recordWebhookEvent(context.db, {
    provider: context.payments.name,
    eventId: event.eventId,
    kind: event.kind,
    paymentId,
    outcome,
  });
  return outcome;
}

async function outcomeOf(context: CheckoutContext, event: PaymentEvent): Promise<string> {
  switch (event.kind) {
    case 'payment_succeeded':
      return paymentSucceeded(context, event);
    case 'payment_failed':
      return paymentFailed(context, event);
    case 'refund_succeeded':
      return settleRefundConfirmed(context, event.refundId);
    case 'refund_failed':
      // The retry job tries it again (a refund is PENDING until the provider confirms it).
      context.logger.warn({ paymentId: event.paymentId, refundId: event.refundId }, 'provider says a refund failed');
      return 'refund_failed';
    case 'ignored':
      return 'ignored';
  }
}

type PaymentOutcome = Extract<PaymentEvent, { kind: 'payment_succeeded' | 'payment_failed' }>;

/** The payment and its order, or the outcome to record when the webhook names neither. */
async function paymentAndOrder(
  context: CheckoutContext,
  event: PaymentOutcome,
): Promise<{ payment: Payment; order: Order } | string> {
  const payment = await findPayment(context.db, context.payments.name, event.paymentId);
  const order = payment ? await findOrder(context.db, payment.orderId) : undefined;
  if (!payment || !order) {
    // Not ours (another system on the same account) or never recorded: acknowledged, so the provider stops.
    context.logger.warn({ paymentId: event.paymentId, orderId: event.orderId }, 'webhook for an unknown payment');
    return 'unknown_order';
  }
  return { payment, order };
}

async function paymentSucceeded(context: CheckoutContext, event: PaymentOutcome): Promise<string> {
  const found = await paymentAndOrder(context, event);
  if (typeof found === 'string') return found;
  const { payment, order } = found;
  if (!paysInFull(event.amount, order)) {
    context.logger.error(
      { orderId: order.id, paymentId: payment.id, paid: event.amount, total: order.totalMinor },
      'payment amount or currency differs from the order: not accepted',
    );
    return 'amount_mismatch';
  }
  await setPaymentStatus(context.db, payment, 'SUCCEEDED');
  try {
    // The provider's payment id is the payment's reference and its idempotency key: every delivery is a repeat.
    await payOrder(context, order, { paymentReference: payment.id, idempotencyKey: payment.id });
    return 'paid';
  } catch (error) {
    if (!isDomainError(error) || error.kind !== 'failed_precondition') throw error;
    const current = await findOrder(context.db, order.id);
    const reason =
      current?.paymentReference && current.paymentReference !== payment.id ? 'DUPLICATE_PAYMENT' : 'LATE_PAYMENT';
    await refundPaymentThatBoughtNothing(context, { ...payment, amountMinor: event.amount.amountMinor }, reason);
    return 'refund_scheduled';
  }
}

/**
 * A declined attempt: the order stays payable until it expires (the buyer may try again), and is told once per
 * failed attempt (the event's id). A failure reported after the payment succeeded changes nothing.
 */
async function paymentFailed(context: CheckoutContext, event: PaymentOutcome): Promise<string> {
  const found = await paymentAndOrder(context, event);
  if (typeof found === 'string') return found;
  const { payment, order } = found;
  const announced = await context.db.transaction(async (tx) => {
    if (!(await setPaymentStatus(tx, payment, 'FAILED', event.failureReason)) && payment.status !== 'FAILED') {
      return false;
    }
    const current = await findOrder(tx, order.id);
    if (current?.status !== 'CREATED') return false;
    // Once per delivery of a failure, not per webhook retry: the event id is recorded in this same transaction.
    const first = await recordWebhookEvent(tx, {
      provider: context.payments.name,
      eventId: event.eventId,
      kind: event.kind,
      paymentId: payment.id,
      outcome: 'payment_failed',
    });
    if (first) await recordOrderEvent(tx, context.config.ORDER_EVENTS_TOPIC, 'PAYMENT_FAILED', current);
    return first;
  });
  if (announced) context.eventsCommitted();
  return 'payment_failed';
}
