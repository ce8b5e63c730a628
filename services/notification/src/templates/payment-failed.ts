import { formatMoney, formatTime, html, orderReference } from './format.ts';
import { renderMessage, type Template } from './layout.ts';
import { payLinkParagraph } from './parts.ts';

/**
 * A payment attempt was declined. The order is still held and payable until it expires, so the message is "try
 * again", with the deadline and the pay page when there is one. It gives no reason: the event carries none, and the
 * provider shows its own on the pay page.
 */
export const paymentFailed: Template = (change) => {
  const reference = orderReference(change.orderId);
  const total = formatMoney(change.total);
  const deadline = change.expiresAt ? formatTime(change.expiresAt) : undefined;
  const payLink = payLinkParagraph(change);
  const retry = payLink.text.length > 0 ? '' : ' You can pay again the way you paid before.';
  return renderMessage(change, {
    subject: deadline
      ? `Payment failed for order ${reference} — you can try again until ${deadline}`
      : `Payment failed for order ${reference} — please try again`,
    intro: [
      `Your payment of ${total} for order ${reference} did not go through.`,
      deadline
        ? `We are still holding your seats: you can try again until ${deadline}. After that the seats go back on sale and the order expires.${retry}`
        : `We are still holding your seats for a short time: please try again soon.${retry}`,
      ...payLink.text,
    ],
    introHtml: [
      html`Your payment of <strong>${total}</strong> for order <strong>${reference}</strong> did not go through.`,
      deadline
        ? html`We are still holding your seats: you can try again until <strong>${deadline}</strong>. After that the seats go back on sale and the order expires.${retry}`
        : html`We are still holding your seats for a short time: please try again soon.${retry}`,
      ...payLink.html,
    ],
    showLines: true,
  });
};
