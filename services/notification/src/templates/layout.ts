import type { OrderChange } from '../domain/order-change.ts';
import { formatMoney, html, multiplyMoney, oneLine, type SafeHtml } from './format.ts';

/** What a template produces: the subject and the same message as plain text and as HTML. */
export interface RenderedMessage {
  subject: string;
  text: string;
  html: string;
}

/** One template per order change. */
export type Template = (change: OrderChange) => RenderedMessage;

/** The parts a template writes; the layout adds the greeting, the order lines and the footer. */
export interface MessageParts {
  subject: string;
  /** Paragraphs of plain text. */
  intro: string[];
  /** The same paragraphs as HTML. */
  introHtml: SafeHtml[];
  /** Shown after the order lines (tickets, refund note …). */
  details?: { text: string[]; html: SafeHtml[] };
  showLines: boolean;
}

export function renderMessage(change: OrderChange, parts: MessageParts): RenderedMessage {
  const lines = parts.showLines ? orderLines(change) : { text: [], html: [] };
  const details = parts.details ?? { text: [], html: [] };
  const text = [
    'Hello,',
    '',
    ...parts.intro.flatMap((paragraph) => [paragraph, '']),
    ...lines.text,
    ...details.text,
    `Order: ${change.orderId}`,
    '',
    '-- ',
    'Tickets',
  ].join('\n');
  const body = html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${oneLine(parts.subject)}</title></head>
<body style="font-family: sans-serif; line-height: 1.4">
<p>Hello,</p>
${parts.introHtml.map((paragraph) => html`<p>${paragraph}</p>\n`)}${lines.html}${details.html}<p style="color: #666">Order: ${change.orderId}</p>
</body>
</html>
`;
  return { subject: oneLine(parts.subject), text, html: body.value };
}

function orderLines(change: OrderChange): { text: string[]; html: SafeHtml[] } {
  const rows = change.lines.map((line) => ({
    name: line.ticketTypeName || line.ticketTypeId,
    quantity: line.quantity,
    unit: formatMoney(line.unitPrice),
    subtotal: formatMoney(multiplyMoney(line.unitPrice, line.quantity)),
  }));
  const total = formatMoney(change.total);
  return {
    text: [
      ...rows.map((row) => `  ${row.quantity} × ${row.name} (${row.unit} each): ${row.subtotal}`),
      `  Total: ${total}`,
      '',
    ],
    html: [
      html`<table style="border-collapse: collapse">
${rows.map((row) => html`<tr><td>${row.quantity} × ${row.name}</td><td style="padding-left: 1em">${row.unit} each</td><td style="padding-left: 1em; text-align: right">${row.subtotal}</td></tr>\n`)}<tr><td colspan="2"><strong>Total</strong></td><td style="padding-left: 1em; text-align: right"><strong>${total}</strong></td></tr>
</table>
`,
    ],
  };
}
