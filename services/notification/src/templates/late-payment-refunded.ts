import { type OrderChange, type Refund, refundOf } from '../domain/order-change.ts';
import { formatMoney, formatTime, html, orderReference } from './format.ts';
import { renderMessage, type Template } from './layout.ts';

/**
 * A payment that bought nothing was refunded automatically: it came after the order had expired or was cancelled
 * (the seats were gone), or after another payment had already paid it. The buyer sees money leave and come back, so
 * the message says why, that nothing needs doing, and whether they hold tickets.
 */
export const latePaymentRefunded: Template = (change) => {
  const reference = orderReference(change.orderId);
  const refund = refundOf(change);
  const amount = formatMoney(refund.amount);
  const when = refund.refundedAt ? ` on ${formatTime(refund.refundedAt)}` : '';
  const duplicate = refund.reason === 'DUPLICATE_PAYMENT';
  const why = whyItBoughtNothing(change, refund);
  const next = duplicate
    ? 'The other payment paid your order; this refund does not change its tickets.'
    : 'If you still want tickets, please place a new order.';
  const refunded = `We refunded it in full${when}: ${amount} goes back the way you paid; it may take a few days to show on your statement. You do not need to do anything.`;
  return renderMessage(change, {
    subject: duplicate
      ? `Your extra payment of ${amount} for order ${reference} was refunded`
      : `Your late payment of ${amount} for order ${reference} was refunded`,
    intro: [why, refunded, next],
    introHtml: [html`${why}`, html`<strong>${refunded}</strong>`, html`${next}`],
    showLines: true,
  });
};

/** One sentence: what the order had become when the payment came, from the refund's reason and the order's status. */
function whyItBoughtNothing(change: OrderChange, refund: Refund): string {
  const reference = orderReference(change.orderId);
  const payment = refund.paymentId ? ` (reference ${refund.paymentId})` : '';
  if (refund.reason === 'DUPLICATE_PAYMENT') {
    return `Order ${reference} had already been paid by another payment, so your payment${payment} of ${formatMoney(refund.amount)} bought nothing.`;
  }
  const arrived = `Your payment${payment} arrived after order ${reference}`;
  switch (change.status) {
    case 'EXPIRED': {
      const deadline = change.expiresAt ? ` (it had to be paid by ${formatTime(change.expiresAt)})` : '';
      return `${arrived} had expired${deadline}. Its seats had gone back on sale, so the payment bought nothing.`;
    }
    case 'CANCELLED':
      return `${arrived} was cancelled. Its seats had been released, so the payment bought nothing.`;
    case 'FAILED':
      return `${arrived} could not be completed, so the payment bought nothing.`;
    default:
      return `${arrived} could no longer be paid, so the payment bought nothing.`;
  }
}
