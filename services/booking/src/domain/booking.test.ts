import { describe, expect, it } from 'vitest';
import { fitHolds, type PayableCheck, unpayableReason } from './booking.ts';

describe('fitHolds', () => {
  it('grants in arrival order while seats last, and lets a later smaller ask fit', () => {
    const asks = [{ seats: 3 }, { seats: 4 }, { seats: 2 }, { seats: 1 }];
    const { granted, refused, left } = fitHolds(6, asks);
    expect(granted).toEqual([asks[0], asks[2], asks[3]]);
    expect(refused).toEqual([asks[1]]);
    expect(left).toBe(0);
  });

  it('refuses everything when nothing is left', () => {
    expect(fitHolds(0, [{ seats: 1 }])).toEqual({ granted: [], refused: [{ seats: 1 }], left: 0 });
  });
});

describe('unpayableReason', () => {
  const booking = (overrides: Partial<PayableCheck>): PayableCheck => ({
    id: 'b1',
    stockId: 's',
    eventId: 'e',
    ticketTypeId: 't',
    orderId: 'o',
    userId: 'u',
    seats: 1,
    status: 'HELD',
    idempotencyKey: 'k',
    createdAt: new Date(0),
    expiresAt: new Date(60_000),
    seatsReturned: 0,
    lapsed: false,
    ...overrides,
  });

  it('accepts live holds and an order already paid', () => {
    expect(unpayableReason([booking({}), booking({ id: 'b2' })])).toBeUndefined();
    expect(unpayableReason([booking({ status: 'SOLD' })])).toBeUndefined();
  });

  it('names the hold that ended or lapsed', () => {
    expect(unpayableReason([booking({}), booking({ id: 'b2', status: 'EXPIRED' })])).toBe('hold b2 is expired');
    expect(unpayableReason([booking({ status: 'RELEASED' })])).toBe('hold b1 is released');
    expect(unpayableReason([booking({ lapsed: true })])).toBe('hold b1 expired at 1970-01-01T00:01:00.000Z');
  });
});
