import { isPayable, type SandboxPayment } from './payments.ts';

// The page a buyer is sent to (`pay_url`): the payment and two buttons, as a PSP's hosted checkout page would show.
// It posts back to itself without the API key: knowing the unguessable payment id is what lets one pay it.

const escapeHtml = (value: string): string =>
  value.replace(
    /[&<>"']/g,
    (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character] ?? character,
  );

/** From the integer minor units as an exact decimal string, never through a float division (as notification does). */
function formatAmount({ amount_minor, currency }: SandboxPayment): string {
  try {
    const format = new Intl.NumberFormat('en', { style: 'currency', currency });
    const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    const padded = String(amount_minor).padStart(digits + 1, '0');
    const decimal = digits === 0 ? padded : `${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
    return format.format(decimal as `${number}`);
  } catch {
    return `${amount_minor} ${currency} (minor units)`;
  }
}

export function payPage(payment: SandboxPayment, notice?: string): string {
  const buttons = isPayable(payment)
    ? `<form method="post">
  <button name="outcome" value="succeed">Pay ${escapeHtml(formatAmount(payment))}</button>
  <button name="outcome" value="decline">Decline the card</button>
</form>`
    : '';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sandbox payment ${escapeHtml(payment.id)}</title></head>
<body>
<h1>Sandbox payment</h1>
${notice ? `<p><strong>${escapeHtml(notice)}</strong></p>` : ''}
<p>${escapeHtml(payment.description || `Order ${payment.order_id}`)}</p>
<p>Amount: ${escapeHtml(formatAmount(payment))}<br>Status: ${escapeHtml(payment.status)}</p>
${buttons}
<p><small>No money moves: this is the ticket system's sandbox payment provider.</small></p>
</body>
</html>
`;
}
