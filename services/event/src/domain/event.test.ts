import { ANONYMOUS, Role, serviceCaller, userCaller } from '@ticket/platform';
import { describe, expect, it } from 'vitest';
import { type CreateEventCommand, canManageEvent, fingerprintOf, requireEventManager } from './event.ts';
import { decodeEventCursor, decodeLocationCursor, encodeEventCursor, encodeLocationCursor } from './page-token.ts';

const command: CreateEventCommand = {
  organizerId: 'organizer-1',
  idempotencyKey: 'k1',
  name: 'Concert',
  description: '',
  startsAt: new Date('2031-01-01T20:00:00Z'),
  endsAt: new Date('2031-01-01T22:00:00Z'),
  locationId: undefined,
  ticketTypes: [{ name: 'A', price: { amountMinor: 100, currency: 'EUR' }, seats: 5 }],
};

describe('fingerprintOf', () => {
  it('ignores the idempotency key and its scope, the organizer, and tells any other argument apart', () => {
    expect(fingerprintOf({ ...command, idempotencyKey: 'k2' })).toBe(fingerprintOf(command));
    expect(fingerprintOf({ ...command, organizerId: 'organizer-2' })).toBe(fingerprintOf(command));
    const variants: CreateEventCommand[] = [
      { ...command, name: 'Concert!' },
      { ...command, description: 'x' },
      { ...command, startsAt: new Date('2031-01-01T20:00:00.001Z') },
      { ...command, endsAt: new Date('2031-01-01T23:00:00Z') },
      { ...command, locationId: '1b4e28ba-2fa1-11d2-883f-0016d3cca427' },
      { ...command, ticketTypes: [{ name: 'A', price: { amountMinor: 101, currency: 'EUR' }, seats: 5 }] },
      { ...command, ticketTypes: [{ name: 'A', price: { amountMinor: 100, currency: 'USD' }, seats: 5 }] },
      { ...command, ticketTypes: [{ name: 'A', price: { amountMinor: 100, currency: 'EUR' }, seats: 6 }] },
      { ...command, ticketTypes: [...command.ticketTypes, ...command.ticketTypes] },
      { ...command, refundableUntil: new Date('2031-01-01T12:00:00Z') },
      { ...command, refundableUntil: new Date('2031-01-01T12:00:00.001Z') },
    ];
    const prints = new Set([command, ...variants].map(fingerprintOf));
    expect(prints.size).toBe(variants.length + 1);
  });

  it('is unchanged by refund windows for a call without one: such a call stored before them is still the same call', () => {
    // The fingerprint this command had before CreateEvent took refundable_until.
    expect(fingerprintOf(command)).toBe('a70bbe84c24ba966e92167af9853663fa1e0ab02e987ad460b8cc73ecf6ed674');
    expect(fingerprintOf({ ...command, refundableUntil: undefined })).toBe(fingerprintOf(command));
  });
});

describe('who manages an event', () => {
  const owned = { id: 'e1', organizerId: 'organizer-1' };
  const ownerless = { id: 'e0', organizerId: undefined };
  const owner = userCaller('organizer-1', [Role.organizer]);
  const admin = userCaller('admin-1', [Role.admin]);

  it('is its organizer or an admin', () => {
    expect(canManageEvent(owner, owned)).toBe(true);
    expect(canManageEvent(admin, owned)).toBe(true);
    expect(() => requireEventManager(owner, owned)).not.toThrow();
  });

  it('is nobody else: another organizer, a buyer, a scanner, a service, an anonymous caller', () => {
    const others = [
      userCaller('organizer-2', [Role.organizer]),
      userCaller('buyer-1'),
      userCaller('scanner-1', [Role.scanner]),
      // A service token whose subject happens to equal the owner's id is still not that user.
      serviceCaller('organizer-1'),
      ANONYMOUS,
    ];
    for (const caller of others) {
      expect(canManageEvent(caller, owned), caller.id).toBe(false);
      expect(() => requireEventManager(caller, owned)).toThrow(expect.objectContaining({ kind: 'permission_denied' }));
    }
  });

  it('is only an admin for an event created before owners were recorded', () => {
    expect(canManageEvent(admin, ownerless)).toBe(true);
    expect(canManageEvent(owner, ownerless)).toBe(false);
    expect(canManageEvent(userCaller(''), ownerless)).toBe(false);
  });
});

describe('page tokens', () => {
  it('round-trip, and only for their own list', () => {
    const cursor = {
      startsAt: new Date('2031-01-01T20:00:00.123Z'),
      id: '1b4e28ba-2fa1-11d2-883f-0016d3cca427',
      locationId: null,
    };
    const token = encodeEventCursor(cursor);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeEventCursor(token)).toEqual(cursor);
    expect(decodeLocationCursor(token)).toBeUndefined();
    const locationToken = encodeLocationCursor({ name: 'Hall', id: cursor.id });
    expect(decodeLocationCursor(locationToken)).toEqual({ name: 'Hall', id: cursor.id });
    expect(decodeEventCursor(locationToken)).toBeUndefined();
  });

  it('refuse what this service did not issue', () => {
    for (const token of [
      '',
      '!!!',
      'e30',
      Buffer.from('{"k":"events"}').toString('base64url'),
      `${encodeEventCursor({ startsAt: new Date(0), id: '1b4e28ba-2fa1-11d2-883f-0016d3cca427', locationId: null })}=`,
    ]) {
      expect(decodeEventCursor(token)).toBeUndefined();
    }
  });
});
