import { formatMoney, formatTime, html, orderReference } from './format.ts';
import { renderMessage, type Template } from './layout.ts';
import { payLinkParagraph } from './parts.ts';

/**
 * Order placed: the seats are held until expires_at; say how much to pay and by when, and where when checkout gave
 * the order a pay page (the payment provider's).
 */
export const orderCreated: Template = (change) => {
  const reference = orderReference(change.orderId);
  const total = formatMoney(change.total);
  const deadline = change.expiresAt ? formatTime(change.expiresAt) : undefined;
  const payLink = payLinkParagraph(change);
  return renderMessage(change, {
    subject: deadline ? `Order ${reference} placed: please pay by ${deadline}` : `Order ${reference} placed`,
    intro: [
      `Thank you for your order ${reference}. We are holding these seats for you:`,
      deadline
        ? `Please pay ${total} by ${deadline}. After that the seats go back on sale and the order expires.`
        : `Please pay ${total} soon; the seats are only held for a short time.`,
      ...payLink.text,
    ],
    introHtml: [
      html`Thank you for your order <strong>${reference}</strong>. We are holding these seats for you:`,
      deadline
        ? html`Please pay <strong>${total}</strong> by <strong>${deadline}</strong>. After that the seats go back on sale and the order expires.`
        : html`Please pay <strong>${total}</strong> soon; the seats are only held for a short time.`,
      ...payLink.html,
    ],
    showLines: true,
  });
};
