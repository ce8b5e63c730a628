import { describe, expect, it } from 'vitest';
import {
  base32,
  type CartLine,
  holdKeyFor,
  holdsState,
  issueTickets,
  orderIdFor,
  priceLines,
  singleCurrency,
  totalOf,
  uuidV5,
} from './order.ts';

const line = (overrides: Partial<CartLine> = {}): CartLine => ({
  ticketTypeId: '00000000-0000-4000-8000-000000000001',
  eventId: '00000000-0000-4000-8000-0000000000e1',
  ticketTypeName: 'GA',
  unitPriceMinor: 1_000,
  currency: 'EUR',
  quantity: 2,
  ...overrides,
});

describe('order ids', () => {
  it('computes RFC 4122 version-5 UUIDs (the DNS-namespace example of python uuid.uuid5)', () => {
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });

  it('derives one order id per (user, key), different for another user or key', () => {
    const id = orderIdFor('alice', 'key-1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(orderIdFor('alice', 'key-1')).toBe(id);
    expect(orderIdFor('bob', 'key-1')).not.toBe(id);
    expect(orderIdFor('alice', 'key-2')).not.toBe(id);
    // The separator keeps ("ab", "c") and ("a", "bc") apart.
    expect(orderIdFor('ab', 'c')).not.toBe(orderIdFor('a', 'bc'));
    expect(holdKeyFor(id, 'tt').length).toBeLessThanOrEqual(128);
  });
});

describe('ticket codes', () => {
  it('encodes base32 as RFC 4648 does', () => {
    expect(base32(Buffer.from('foobar'))).toBe('MZXW6YTBOI');
    expect(base32(Buffer.from('f'))).toBe('MY');
    expect(base32(new Uint8Array())).toBe('');
  });

  it('issues one unique 120-bit code per seat', () => {
    const tickets = issueTickets([line({ quantity: 3 }), line({ ticketTypeId: 'other', quantity: 2 })]);
    expect(tickets.map((ticket) => ticket.ticketTypeId)).toEqual([
      line().ticketTypeId,
      line().ticketTypeId,
      line().ticketTypeId,
      'other',
      'other',
    ]);
    const codes = new Set(tickets.map((ticket) => ticket.code));
    expect(codes.size).toBe(5);
    for (const code of codes) expect(code).toMatch(/^[A-Z2-7]{24}$/);
  });
});

describe('pricing', () => {
  it('prices lines from the current ticket types and sums them in minor units', () => {
    const priced = priceLines(
      [line()],
      new Map([
        [
          line().ticketTypeId,
          { id: line().ticketTypeId, eventId: 'e', name: 'GA (new)', priceMinor: 1_250, currency: 'EUR' },
        ],
      ]),
    );
    expect(priced).toEqual([line({ eventId: 'e', ticketTypeName: 'GA (new)', unitPriceMinor: 1_250 })]);
    expect(totalOf(priced)).toBe(2_500);
  });

  it('refuses a ticket type no longer on sale, mixed currencies and an inexact total', () => {
    expect(() => priceLines([line()], new Map())).toThrow(/no longer on sale/);
    expect(() => singleCurrency([line(), line({ currency: 'USD' })])).toThrow(/mixes currencies/);
    expect(() => totalOf([line({ unitPriceMinor: Number.MAX_SAFE_INTEGER, quantity: 2 })])).toThrow(/too large/);
    expect(singleCurrency([])).toBeUndefined();
  });
});

describe('holds state', () => {
  const hold = (status: 'HELD' | 'SOLD' | 'RELEASED' | 'EXPIRED') => ({
    id: status,
    ticketTypeId: 't',
    seats: 1,
    status,
    expiresAt: new Date(),
  });
  it('tells sold, partly sold, live and ended orders apart', () => {
    expect(holdsState([])).toBe('none');
    expect(holdsState([hold('SOLD'), hold('SOLD')])).toBe('all-sold');
    expect(holdsState([hold('SOLD'), hold('RELEASED')])).toBe('some-sold');
    expect(holdsState([hold('HELD'), hold('EXPIRED')])).toBe('live');
    expect(holdsState([hold('RELEASED'), hold('EXPIRED')])).toBe('ended');
  });
});
