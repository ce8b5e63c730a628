import { formatTime, html, orderReference, type SafeHtml } from './format.ts';
import { renderMessage, type Template } from './layout.ts';

/**
 * Order expired (not paid in time): the seats are back on sale. When a payment arrived after all, the event names
 * it (refund_payment_reference) and the buyer learns that it will be refunded.
 */
export const orderExpired: Template = (change) => {
  const reference = orderReference(change.orderId);
  const deadline = change.expiresAt ? ` by ${formatTime(change.expiresAt)}` : ' in time';
  const refund = change.refundPaymentReference;
  const refundText = refund
    ? [
        `Your payment (reference ${refund}) arrived after the order had expired. It will be refunded in full; you do not need to do anything.`,
        '',
      ]
    : [];
  const refundHtml: SafeHtml[] = refund
    ? [
        html`<p><strong>Your payment (reference ${refund}) arrived after the order had expired. It will be refunded in full</strong>; you do not need to do anything.</p>\n`,
      ]
    : [];
  return renderMessage(change, {
    subject: refund ? `Order ${reference} expired: your payment will be refunded` : `Order ${reference} expired`,
    intro: [`Your order ${reference} was not paid${deadline} and has expired. Its seats are back on sale.`],
    introHtml: [
      html`Your order <strong>${reference}</strong> was not paid${deadline} and has expired. Its seats are back on sale.`,
    ],
    showLines: true,
    details: { text: refundText, html: refundHtml },
  });
};
