import { refundOf } from '../domain/order-change.ts';
import { formatMoney, formatTime, html, orderReference } from './format.ts';
import { renderMessage, type Template } from './layout.ts';
import { joinParagraphs, type NamedTicket, namedTickets, ticketListParts } from './parts.ts';

/**
 * Some or all of the order's tickets were refunded and the provider paid the money back: how much, which codes are
 * void now (they no longer admit anyone, so a holder must not rely on them), and which still admit. The order lines
 * are left out: their total is what was paid, not what came back, and the two side by side confuse.
 */
export const orderRefunded: Template = (change) => {
  const reference = orderReference(change.orderId);
  const refund = refundOf(change);
  const amount = formatMoney(refund.amount);
  const when = refund.refundedAt ? ` on ${formatTime(refund.refundedAt)}` : '';
  const refundedCodes = new Set(refund.ticketCodes);
  const tickets = namedTickets(change);
  const voided = refund.ticketCodes.map((code) => ticketNamed(tickets, code));
  // Tickets voided by an earlier refund are neither this refund's nor valid: they were announced then.
  const valid = tickets.filter((ticket) => !ticket.voided && !refundedCodes.has(ticket.code));
  const outcome =
    valid.length === 0
      ? 'Every ticket of the order is refunded; the order is closed.'
      : 'The rest of your order stays valid.';
  return renderMessage(change, {
    subject: `Refund of ${amount} for order ${reference}`,
    intro: [
      `We refunded ${amount} for order ${reference}${when}. The money goes back the way you paid; it may take a few days to show on your statement.`,
      outcome,
    ],
    introHtml: [
      html`We refunded <strong>${amount}</strong> for order <strong>${reference}</strong>${when}. The money goes back the way you paid; it may take a few days to show on your statement.`,
      html`${outcome}`,
    ],
    showLines: false,
    details: joinParagraphs(
      voided.length > 0
        ? ticketListParts('These tickets are now void and no longer admit anyone:', voided)
        : { text: [], html: [] },
      valid.length > 0
        ? ticketListParts('These tickets remain valid (show the code at the entrance):', valid)
        : {
            text: ['No ticket of this order remains valid.', ''],
            html: [html`<p>No ticket of this order remains valid.</p>\n`],
          },
    ),
  });
};

/** The ticket with this code, named; a code the snapshot does not list is still shown, without a name. */
function ticketNamed(tickets: readonly NamedTicket[], code: string): NamedTicket {
  return tickets.find((ticket) => ticket.code === code) ?? { code, name: '', voided: true };
}
