import type { OrderChange } from '../domain/order-change.ts';
import { formatMoney, formatTime, html, orderReference } from './format.ts';
import { renderMessage, type Template } from './layout.ts';

/** Order paid: the tickets are issued; list every ticket code (what the holder shows at the entrance). */
export const orderPaid: Template = (change) => {
  const reference = orderReference(change.orderId);
  const total = formatMoney(change.total);
  const paid = change.paidAt ? ` on ${formatTime(change.paidAt)}` : '';
  const payment = change.paymentReference ? ` (payment reference ${change.paymentReference})` : '';
  const tickets = ticketList(change);
  return renderMessage(change, {
    subject: `Your tickets for order ${reference}`,
    intro: [`We received your payment of ${total}${paid}${payment}. Your order ${reference} is confirmed.`],
    introHtml: [
      html`We received your payment of <strong>${total}</strong>${paid}${payment}. Your order <strong>${reference}</strong> is confirmed.`,
    ],
    showLines: true,
    details: {
      text: ['Your tickets (show the code at the entrance):', ...tickets.map((t) => `  ${t.code}  ${t.name}`), ''],
      html: [
        html`<p>Your tickets (show the code at the entrance):</p>
<ul>
${tickets.map((t) => html`<li><code style="font-size: 1.2em">${t.code}</code> ${t.name}</li>\n`)}</ul>
`,
      ],
    },
  });
};

function ticketList(change: OrderChange): { code: string; name: string }[] {
  const names = new Map(change.lines.map((line) => [line.ticketTypeId, line.ticketTypeName]));
  return change.tickets.map((ticket) => ({ code: ticket.code, name: names.get(ticket.ticketTypeId) ?? '' }));
}
