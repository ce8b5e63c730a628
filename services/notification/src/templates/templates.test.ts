import { describe, expect, it } from 'vitest';
import type { OrderChange } from '../domain/order-change.ts';
import { escapeHtml, formatMoney, formatTime, html } from './format.ts';
import { renderNotification } from './index.ts';

const change = (overrides: Partial<OrderChange> = {}): OrderChange => ({
  eventId: 'e-1',
  kind: 'CREATED',
  occurredAt: new Date('2026-11-23T11:00:00Z'),
  orderId: '1a2b3c4d-0000-4000-8000-000000000001',
  userId: 'user-1',
  email: 'buyer@example.com',
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
  tickets: [],
  failureReason: '',
  refundPaymentReference: '',
  ...overrides,
});

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

  it('PAID: every ticket code with its ticket type', () => {
    const message = renderNotification(
      change({
        kind: 'PAID',
        paidAt: new Date('2026-11-23T11:05:00Z'),
        paymentReference: 'pay-42',
        tickets: [
          { code: 'TCK-AAAA-1111', ticketTypeId: 'tt-1' },
          { code: 'TCK-BBBB-2222', ticketTypeId: 'tt-1' },
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
});
