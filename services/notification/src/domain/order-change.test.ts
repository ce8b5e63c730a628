import { describe, expect, it } from 'vitest';
import { changeKeyOf, type OrderChange, refundOf } from './order-change.ts';

const change = (overrides: Partial<OrderChange>): OrderChange => ({
  eventId: 'event-1',
  kind: 'CREATED',
  occurredAt: new Date('2026-11-23T11:00:00Z'),
  orderId: '1a2b3c4d-0000-4000-8000-000000000001',
  userId: 'user-1',
  email: 'buyer@example.com',
  status: 'CREATED',
  lines: [],
  total: { amountMinor: 0, currency: 'EUR' },
  expiresAt: null,
  paidAt: null,
  paymentReference: '',
  payUrl: '',
  tickets: [],
  failureReason: '',
  refundPaymentReference: '',
  refund: null,
  ...overrides,
});

const refund = {
  id: 'refund-7',
  paymentId: 'pay_1',
  amount: { amountMinor: 100, currency: 'EUR' },
  reason: 'REQUESTED' as const,
  ticketCodes: [],
  refundedAt: null,
};

describe('change keys', () => {
  it('a status change needs none: an order reaches each status once', () => {
    for (const kind of ['CREATED', 'PAID', 'CANCELLED', 'EXPIRED', 'FAILED'] as const) {
      expect(changeKeyOf(change({ kind }))).toBe('');
    }
  });

  it('a refund is keyed by its id, a declined attempt by its event', () => {
    expect(changeKeyOf(change({ kind: 'REFUNDED', refund }))).toBe('refund-7');
    expect(changeKeyOf(change({ kind: 'LATE_PAYMENT_REFUNDED', refund }))).toBe('refund-7');
    expect(changeKeyOf(change({ kind: 'PAYMENT_FAILED', eventId: 'event-9' }))).toBe('event-9');
  });

  it('a refund change without its refund is a bug, not an empty key', () => {
    expect(() => changeKeyOf(change({ kind: 'REFUNDED' }))).toThrow(/without a refund/);
    expect(refundOf(change({ kind: 'REFUNDED', refund }))).toBe(refund);
  });
});
