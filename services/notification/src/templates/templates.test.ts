import { describe, expect, it } from 'vitest';
import type { OrderChange, Refund } from '../domain/order-change.ts';
import { escapeHtml, formatMoney, formatTime, html, webLink } from './format.ts';
import { renderNotification } from './index.ts';

const change = (overrides: Partial<OrderChange> = {}): OrderChange => ({
  eventId: 'e-1',
  kind: 'CREATED',
  occurredAt: new Date('2026-11-23T11:00:00Z'),
  orderId: '1a2b3c4d-0000-4000-8000-000000000001',
  userId: 'user-1',
  email: 'buyer@example.com',
  status: 'CREATED',
  lines: [
    {
      ticketTypeId: 'tt-1',
      ticketTypeName: 'Standing',
      unitPrice: { amountMinor: 1050, currency: 'EUR' },
      quantity: 2,
    },
  ],
  total: { amountMinor: 2100, currency: 'EUR' },
  expiresAt: new Date('2026-11-23T11:15:00Z'),
  paidAt: null,
  paymentReference: '',
  payUrl: '',
  tickets: [],
  failureReason: '',
  refundPaymentReference: '',
  refund: null,
  ...overrides,
});

const refund = (overrides: Partial<Refund> = {}): Refund => ({
  id: 'refund-1',
  paymentId: 'pay_42',
  amount: { amountMinor: 1050, currency: 'EUR' },
  reason: 'REQUESTED',
  ticketCodes: [],
  refundedAt: new Date('2026-11-24T09:30:00Z'),
  ...overrides,
});

const tickets = (...codes: [code: string, voided: boolean][]) =>
  codes.map(([code, voided]) => ({ code, ticketTypeId: 'tt-1', voided }));

describe('money', () => {
  it('formats minor units exactly, with the currency’s own decimals', () => {
    expect(formatMoney({ amountMinor: 1050, currency: 'EUR' })).toBe('€10.50');
    expect(formatMoney({ amountMinor: 5, currency: 'USD' })).toBe('US$0.05');
    expect(formatMoney({ amountMinor: 500, currency: 'JPY' })).toBe('JP¥500');
    expect(formatMoney({ amountMinor: 1234, currency: 'KWD' })).toBe('KWD\u00a01.234');
    expect(formatMoney({ amountMinor: 9_007_199_254_740_991, currency: 'EUR' })).toBe('€90,071,992,547,409.91');
  });

  it('falls back to plain minor units for a code Intl does not know', () => {
    expect(formatMoney({ amountMinor: 100, currency: 'euro' })).toBe('100 euro (minor units)');
  });
});

describe('html', () => {
  it('escapes every interpolated value but keeps nested fragments', () => {
    const name = '<script>alert("x")</script> & \'co\'';
    expect(html`<p>${name}</p>`.value).toBe(`<p>${escapeHtml(name)}</p>`);
    expect(escapeHtml(name)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;');
    expect(html`<div>${html`<b>${'<i>'}</b>`}</div>`.value).toBe('<div><b>&lt;i&gt;</b></div>');
  });
});

describe('templates', () => {
  it('CREATED: total and the time the hold expires, in text and HTML', () => {
    const message = renderNotification(change());
    expect(message.subject).toBe('Order #1A2B3C4D placed: please pay by 23 Nov 2026, 11:15 UTC');
    expect(message.text).toContain('Please pay €21.00 by 23 Nov 2026, 11:15 UTC');
    expect(message.text).toContain('2 × Standing (€10.50 each): €21.00');
    expect(message.html).toContain('<strong>€21.00</strong>');
    expect(message.html).toContain('23 Nov 2026, 11:15 UTC');
  });

  it('CREATED: the pay link when checkout gave the order a pay page, and only an http(s) one', () => {
    const withLink = renderNotification(change({ payUrl: 'https://pay.example/p/1?a=1&b=2' }));
    expect(withLink.text).toContain('Pay €21.00 now: https://pay.example/p/1?a=1&b=2');
    expect(withLink.html).toContain(
      '<a href="https://pay.example/p/1?a=1&amp;b=2" style="font-weight: bold">Pay €21.00 now</a>',
    );
    expect(renderNotification(change()).text).not.toContain('Pay €21.00 now');
    const hostile = renderNotification(change({ payUrl: 'javascript:alert(1)' }));
    expect(hostile.html).not.toContain('javascript:');
    expect(hostile.html).not.toContain('<a ');
  });

  it('PAID: every ticket code with its ticket type', () => {
    const message = renderNotification(
      change({
        kind: 'PAID',
        paidAt: new Date('2026-11-23T11:05:00Z'),
        paymentReference: 'pay-42',
        tickets: [
          { code: 'TCK-AAAA-1111', ticketTypeId: 'tt-1', voided: false },
          { code: 'TCK-BBBB-2222', ticketTypeId: 'tt-1', voided: false },
        ],
      }),
    );
    expect(message.subject).toBe('Your tickets for order #1A2B3C4D');
    for (const body of [message.text, message.html]) {
      expect(body).toContain('TCK-AAAA-1111');
      expect(body).toContain('TCK-BBBB-2222');
      expect(body).toContain('pay-42');
      expect(body).toContain('€21.00');
    }
  });

  it('EXPIRED: the refund note only when a late payment is named', () => {
    const plain = renderNotification(change({ kind: 'EXPIRED' }));
    expect(plain.subject).toBe('Order #1A2B3C4D expired');
    expect(plain.text).not.toContain('refund');
    const refunded = renderNotification(change({ kind: 'EXPIRED', refundPaymentReference: 'late-pay-7' }));
    expect(refunded.subject).toBe('Order #1A2B3C4D expired: your payment will be refunded');
    expect(refunded.text).toContain('Your payment (reference late-pay-7) arrived after the order had expired');
    expect(refunded.html).toContain('late-pay-7');
  });

  it('PAYMENT_FAILED: try again until the hold expires, with the pay link when there is one', () => {
    const message = renderNotification(change({ kind: 'PAYMENT_FAILED', payUrl: 'https://pay.example/p/1' }));
    expect(message.subject).toBe('Payment failed for order #1A2B3C4D — you can try again until 23 Nov 2026, 11:15 UTC');
    expect(message.text).toContain('Your payment of €21.00 for order #1A2B3C4D did not go through.');
    expect(message.text).toContain('you can try again until 23 Nov 2026, 11:15 UTC');
    expect(message.text).toContain('Pay €21.00 now: https://pay.example/p/1');
    expect(message.html).toContain('<a href="https://pay.example/p/1"');
    expect(message.text).toContain('2 × Standing (€10.50 each): €21.00');

    const noLink = renderNotification(change({ kind: 'PAYMENT_FAILED' }));
    expect(noLink.text).toContain('You can pay again the way you paid before.');
    expect(noLink.html).not.toContain('<a ');
    const noDeadline = renderNotification(change({ kind: 'PAYMENT_FAILED', expiresAt: null }));
    expect(noDeadline.subject).toBe('Payment failed for order #1A2B3C4D — please try again');
  });

  it('REFUNDED: the amount, the codes now void and the tickets that remain valid', () => {
    const partial = renderNotification(
      change({
        kind: 'REFUNDED',
        status: 'PARTIALLY_REFUNDED',
        // OLD-1 was voided by an earlier refund: neither this refund's nor valid.
        tickets: tickets(['OLD-1', true], ['VOID-2', true], ['KEEP-3', false]),
        refund: refund({ ticketCodes: ['VOID-2'] }),
      }),
    );
    expect(partial.subject).toBe('Refund of €10.50 for order #1A2B3C4D');
    expect(partial.text).toContain('We refunded €10.50 for order #1A2B3C4D on 24 Nov 2026, 09:30 UTC.');
    expect(partial.text).toContain(
      'These tickets are now void and no longer admit anyone:\n  VOID-2  Standing\n\nThese tickets remain valid (show the code at the entrance):\n  KEEP-3  Standing\n',
    );
    expect(partial.text).not.toContain('OLD-1');
    expect(partial.text).toContain('The rest of your order stays valid.');
    // The order's total is what was paid, not what came back: the lines are left out.
    expect(partial.text).not.toContain('Total:');
    expect(partial.html).toContain('<strong>€10.50</strong>');
    expect(partial.html).toContain('<code style="font-size: 1.2em">VOID-2</code>');

    const whole = renderNotification(
      change({
        kind: 'REFUNDED',
        status: 'REFUNDED',
        total: { amountMinor: 2100, currency: 'EUR' },
        tickets: tickets(['A-1', true], ['B-2', true]),
        refund: refund({ amount: { amountMinor: 2100, currency: 'EUR' }, ticketCodes: ['A-1', 'B-2'] }),
      }),
    );
    expect(whole.subject).toBe('Refund of €21.00 for order #1A2B3C4D');
    expect(whole.text).toContain('Every ticket of the order is refunded; the order is closed.');
    expect(whole.text).toContain('  A-1  Standing\n  B-2  Standing\n');
    expect(whole.text).toContain('No ticket of this order remains valid.');
    expect(whole.text).not.toContain('remain valid (show');
  });

  it('REFUNDED: a code the snapshot does not list is still named as void', () => {
    const message = renderNotification(
      change({ kind: 'REFUNDED', tickets: tickets(['KEEP-1', false]), refund: refund({ ticketCodes: ['GONE-9'] }) }),
    );
    expect(message.text).toContain('no longer admit anyone:\n  GONE-9  \n');
    expect(message.text).toContain('KEEP-1');
  });

  it('LATE_PAYMENT_REFUNDED: says why the payment bought nothing, by the order status and the refund reason', () => {
    const late = { kind: 'LATE_PAYMENT_REFUNDED' as const };
    const full = { amount: { amountMinor: 2100, currency: 'EUR' }, reason: 'LATE_PAYMENT' as const };
    const expired = renderNotification(change({ ...late, status: 'EXPIRED', refund: refund(full) }));
    expect(expired.subject).toBe('Your late payment of €21.00 for order #1A2B3C4D was refunded');
    expect(expired.text).toContain(
      'Your payment (reference pay_42) arrived after order #1A2B3C4D had expired (it had to be paid by 23 Nov 2026, 11:15 UTC).',
    );
    expect(expired.text).toContain(
      'We refunded it in full on 24 Nov 2026, 09:30 UTC: €21.00 goes back the way you paid',
    );
    expect(expired.text).toContain('If you still want tickets, please place a new order.');
    expect(expired.html).toContain('pay_42');

    const cancelled = renderNotification(change({ ...late, status: 'CANCELLED', refund: refund(full) }));
    expect(cancelled.text).toContain('arrived after order #1A2B3C4D was cancelled. Its seats had been released');

    const duplicate = renderNotification(
      change({ ...late, status: 'PAID', refund: refund({ ...full, reason: 'DUPLICATE_PAYMENT' }) }),
    );
    expect(duplicate.subject).toBe('Your extra payment of €21.00 for order #1A2B3C4D was refunded');
    expect(duplicate.text).toContain('Order #1A2B3C4D had already been paid by another payment');
    expect(duplicate.text).toContain('this refund does not change its tickets');
    expect(duplicate.text).not.toContain('place a new order');
  });

  it('refund templates refuse a change without its refund (the mapping never makes one)', () => {
    expect(() => renderNotification(change({ kind: 'REFUNDED' }))).toThrow(/without a refund/);
  });

  it('CANCELLED and FAILED (with its reason)', () => {
    expect(renderNotification(change({ kind: 'CANCELLED' })).subject).toBe('Order #1A2B3C4D cancelled');
    const failed = renderNotification(change({ kind: 'FAILED', failureReason: 'seats sold out' }));
    expect(failed.subject).toBe('Order #1A2B3C4D could not be completed');
    expect(failed.text).toContain('could not be completed: seats sold out.');
  });

  it('escapes whatever the order carries, and keeps subjects on one line', () => {
    const message = renderNotification(
      change({
        kind: 'FAILED',
        failureReason: '<img src=x onerror=alert(1)> & more',
        lines: [
          {
            ticketTypeId: 'tt',
            ticketTypeName: '<b>VIP</b>',
            unitPrice: { amountMinor: 1, currency: 'EUR' },
            quantity: 1,
          },
        ],
      }),
    );
    expect(message.html).not.toContain('<img');
    expect(message.html).not.toContain('<b>VIP');
    expect(message.html).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; more');
    expect(message.html).toContain('&lt;b&gt;VIP&lt;/b&gt;');
    expect(message.text).toContain('<b>VIP</b>'); // plain text shows it as written
    expect(formatTime(new Date('2026-01-02T03:04:05Z'))).toBe('2 Jan 2026, 03:04 UTC');
  });

  it('links only to http(s) pages', () => {
    expect(webLink(' https://pay.example/p/1 ')).toBe('https://pay.example/p/1');
    expect(webLink('http://localhost:50650/pay/p_1')).toBe('http://localhost:50650/pay/p_1');
    expect(webLink('')).toBeUndefined();
    expect(webLink('javascript:alert(1)')).toBeUndefined();
    expect(webLink('data:text/html,<script>')).toBeUndefined();
    expect(webLink('/relative/path')).toBeUndefined();
  });
});
