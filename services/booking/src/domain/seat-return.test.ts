import { describe, expect, it } from 'vitest';
import type { Booking } from './booking.ts';
import { allocateReturn, returnedPerStock, returnFingerprint, withReturned } from './seat-return.ts';

const booking = (overrides: Partial<Booking>): Booking => ({
  id: 'b1',
  stockId: 's1',
  eventId: 'e',
  ticketTypeId: 't1',
  orderId: 'o',
  userId: 'u',
  seats: 2,
  status: 'SOLD',
  idempotencyKey: 'k',
  createdAt: new Date(0),
  expiresAt: new Date(60_000),
  seatsReturned: 0,
  ...overrides,
});

describe('allocateReturn', () => {
  it('spreads a return over several sold bookings of the ticket type, skipping what they already returned', () => {
    const sold = [
      booking({ id: 'b1', seats: 2, seatsReturned: 2 }),
      booking({ id: 'b2', seats: 3, seatsReturned: 1 }),
      booking({ id: 'b3', seats: 4 }),
      booking({ id: 'b4', ticketTypeId: 't2', stockId: 's2', seats: 1 }),
    ];
    const perBooking = allocateReturn('o', sold, [
      { eventId: 'e', ticketTypeId: 't1', seats: 5 },
      { eventId: 'e', ticketTypeId: 't2', seats: 1 },
    ]);
    expect([...perBooking]).toEqual([
      ['b2', 2],
      ['b3', 3],
      ['b4', 1],
    ]);
    expect(withReturned(sold, perBooking).map((b) => b.seatsReturned)).toEqual([2, 3, 3, 1]);
    expect([...returnedPerStock(sold, perBooking)]).toEqual([
      ['s1', 5],
      ['s2', 1],
    ]);
  });

  it('refuses more than is sold and not returned, counting only SOLD bookings', () => {
    const bookings = [booking({ seats: 2, seatsReturned: 1 }), booking({ id: 'b2', status: 'RELEASED', seats: 5 })];
    expect(() => allocateReturn('o', bookings, [{ eventId: 'e', ticketTypeId: 't1', seats: 2 }])).toThrow(
      expect.objectContaining({ kind: 'failed_precondition' }),
    );
  });

  it('refuses a ticket type the order has no sold booking of', () => {
    const bookings = [booking({ status: 'HELD' })];
    for (const key of [
      { eventId: 'e', ticketTypeId: 't1' },
      { eventId: 'other', ticketTypeId: 't1' },
    ]) {
      expect(() => allocateReturn('o', bookings, [{ ...key, seats: 1 }])).toThrow(
        expect.objectContaining({ kind: 'not_found' }),
      );
    }
  });
});

describe('returnFingerprint', () => {
  const a = { eventId: 'e1', ticketTypeId: 't1', seats: 1 };
  const b = { eventId: 'e1', ticketTypeId: 't2', seats: 2 };

  it('ignores the order of the ticket types and tells other seats apart', () => {
    expect(returnFingerprint([a, b])).toBe(returnFingerprint([b, a]));
    const prints = new Set(
      [[a, b], [a], [b], [{ ...a, seats: 2 }, b], [{ ...a, eventId: 'e2' }, b]].map(returnFingerprint),
    );
    expect(prints.size).toBe(5);
  });
});
