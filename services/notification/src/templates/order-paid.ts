import { formatMoney, formatTime, html, orderReference } from './format.ts';
import { renderMessage, type Template } from './layout.ts';
import { namedTickets, ticketListParts } from './parts.ts';

/** Order paid: the tickets are issued; list every ticket code (what the holder shows at the entrance). */
export const orderPaid: Template = (change) => {
  const reference = orderReference(change.orderId);
  const total = formatMoney(change.total);
  const paid = change.paidAt ? ` on ${formatTime(change.paidAt)}` : '';
  const payment = change.paymentReference ? ` (payment reference ${change.paymentReference})` : '';
  return renderMessage(change, {
    subject: `Your tickets for order ${reference}`,
    intro: [`We received your payment of ${total}${paid}${payment}. Your order ${reference} is confirmed.`],
    introHtml: [
      html`We received your payment of <strong>${total}</strong>${paid}${payment}. Your order <strong>${reference}</strong> is confirmed.`,
    ],
    showLines: true,
    details: ticketListParts('Your tickets (show the code at the entrance):', namedTickets(change)),
  });
};
