import type { OrderChange } from '../domain/order-change.ts';
import { formatMoney, html, type SafeHtml, webLink } from './format.ts';

// Pieces several templates share: the pay link and lists of ticket codes.

/** A paragraph in both forms; empty arrays when there is nothing to say. */
export interface Paragraphs {
  text: string[];
  html: SafeHtml[];
}

export function joinParagraphs(...parts: Paragraphs[]): Paragraphs {
  return { text: parts.flatMap((part) => part.text), html: parts.flatMap((part) => part.html) };
}

/** "Pay €25.00 now: <link>", when checkout gave the order a pay page; nothing otherwise. */
export function payLinkParagraph(change: OrderChange): Paragraphs {
  const link = webLink(change.payUrl);
  if (link === undefined) return { text: [], html: [] };
  const label = `Pay ${formatMoney(change.total)} now`;
  return {
    text: [`${label}: ${link}`],
    html: [html`<a href="${link}" style="font-weight: bold">${label}</a>`],
  };
}

export interface NamedTicket {
  code: string;
  /** The ticket type's name; empty when the order's lines do not name it. */
  name: string;
  voided: boolean;
}

/** The order's tickets with their ticket type names, in the order's order. */
export function namedTickets(change: OrderChange): NamedTicket[] {
  const names = new Map(change.lines.map((line) => [line.ticketTypeId, line.ticketTypeName]));
  return change.tickets.map((ticket) => ({
    code: ticket.code,
    name: names.get(ticket.ticketTypeId) ?? '',
    voided: ticket.voided,
  }));
}

/** A heading and one line per ticket code (what the holder shows at the entrance), as text and HTML. */
export function ticketListParts(heading: string, tickets: readonly NamedTicket[]): Paragraphs {
  return {
    text: [heading, ...tickets.map((t) => `  ${t.code}  ${t.name}`), ''],
    html: [
      html`<p>${heading}</p>
<ul>
${tickets.map((t) => html`<li><code style="font-size: 1.2em">${t.code}</code> ${t.name}</li>\n`)}</ul>
`,
    ],
  };
}
