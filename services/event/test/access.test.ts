import { signUserToken } from '@ticket/platform';
import { bearer, callOutcome, type TestUser } from '@ticket/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUTH_JWT_SECRET,
  bookingStocks,
  callError,
  type EventHarness,
  eventRequest,
  expectConsistent,
  startEventHarness,
  statusOf,
} from './harness.ts';

// Who may call what: the catalogue is public, creating is for organizers (and admins), and an event's organizer is
// shown only to that organizer and to admins.

let harness: EventHarness;
beforeAll(async () => {
  harness = await startEventHarness();
});
afterAll(() => harness?.close());

const anonymous = () => harness.anonymous;
const as = (user: TestUser) => harness.tokens[user].call;
const location = { name: 'Arena', address: '', city: 'Berlin', countryCode: 'DE' };

async function organizerIdInDatabase(eventId: string): Promise<string | null | undefined> {
  const [row] = await harness.sql<{ organizer_id: string | null }[]>`
    select organizer_id from event.events where id = ${eventId}`;
  return row?.organizer_id;
}

describe('creating', () => {
  it('is UNAUTHENTICATED without a token, and creates nothing', async () => {
    const request = eventRequest();
    expect(await statusOf(anonymous().createEvent(request))).toBe('UNAUTHENTICATED');
    expect(await statusOf(anonymous().createLocation(location))).toBe('UNAUTHENTICATED');
    const [row] = await harness.sql<{ n: number }[]>`
      select count(*)::int as n from event.events where idempotency_key = ${request.idempotencyKey}`;
    expect(row?.n).toBe(0);
  });

  it.each(['buyer', 'scanner'] as const)('is PERMISSION_DENIED to a %s', async (user) => {
    expect(await callOutcome(anonymous().createEvent(eventRequest(), as(user)))).toBe(
      'PERMISSION_DENIED: this method needs the role organizer',
    );
    expect(await statusOf(anonymous().createLocation(location, as(user)))).toBe('PERMISSION_DENIED');
  });

  it.each(['organizer', 'admin'] as const)('is for an %s, who becomes the event’s owner', async (user) => {
    const { location: venue } = await anonymous().createLocation(location, as(user));
    const { event } = await anonymous().createEvent(eventRequest({ locationId: venue!.id }), as(user));
    const owner = harness.tokens[user].id;
    expect(event!.organizerId).toBe(owner);
    expect(await organizerIdInDatabase(event!.id)).toBe(owner);
    expect(await bookingStocks(harness.booking, [event!.id])).toHaveLength(2);
  });

  it('scopes idempotency keys to the organizer: two organizers with one key get an event each', async () => {
    const request = eventRequest();
    const mine = await anonymous().createEvent(request, as('organizer'));
    // Other arguments too: for another organizer this is no reuse of the key, so no ALREADY_EXISTS.
    const theirs = await anonymous().createEvent({ ...request, name: 'Their concert' }, as('otherOrganizer'));
    expect(theirs.event!.id).not.toBe(mine.event!.id);
    expect(theirs.event!.organizerId).toBe(harness.tokens.otherOrganizer.id);
    // Each organizer's retry still finds its own event, and its own arguments still count.
    expect((await anonymous().createEvent(request, as('organizer'))).event!.id).toBe(mine.event!.id);
    const retried = await anonymous().createEvent({ ...request, name: 'Their concert' }, as('otherOrganizer'));
    expect(retried.event!.id).toBe(theirs.event!.id);
    expect(await statusOf(anonymous().createEvent(request, as('otherOrganizer')))).toBe('ALREADY_EXISTS');
    await expectConsistent(harness);
  });
});

describe('the organizer of an event', () => {
  let eventId: string;
  beforeAll(async () => {
    const { event } = await anonymous().createEvent(eventRequest({ name: 'Owned' }), as('organizer'));
    eventId = event!.id;
  });

  /** The organizer_id GetEvent and ListEvents show `caller` (undefined: no token). */
  async function organizerSeenBy(user: TestUser | undefined): Promise<string[]> {
    const options = user === undefined ? {} : as(user);
    const { event } = await anonymous().getEvent({ eventId }, options);
    const listed: string[] = [];
    let pageToken = '';
    do {
      const page = await anonymous().listEvents({ pageSize: 100, pageToken }, options);
      listed.push(...page.events.filter((candidate) => candidate.id === eventId).map((found) => found.organizerId));
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    return [event!.organizerId, ...listed];
  }

  it('is shown to that organizer and to admins', async () => {
    const owner = harness.tokens.organizer.id;
    expect(await organizerSeenBy('organizer')).toEqual([owner, owner]);
    expect(await organizerSeenBy('admin')).toEqual([owner, owner]);
  });

  it.each(['otherOrganizer', 'buyer', 'scanner', undefined] as const)(
    'is hidden from %s (undefined: no token)',
    async (user) => {
      expect(await organizerSeenBy(user)).toEqual(['', '']);
    },
  );

  it('is not shown, even to an admin, for an event created before owners were recorded', async () => {
    const { event } = await anonymous().createEvent(eventRequest({ name: 'Legacy' }), as('organizer'));
    // What the migration left such events with.
    await harness.sql`update event.events set organizer_id = null where id = ${event!.id}`;
    const seen = async (user: TestUser) =>
      (await anonymous().getEvent({ eventId: event!.id }, as(user))).event!.organizerId;
    expect(await seen('organizer')).toBe('');
    expect(await seen('admin')).toBe('');
  });
});

describe('the catalogue', () => {
  it('is readable without a token', async () => {
    const { location: venue } = await harness.client.createLocation(location);
    const { event } = await harness.client.createEvent(eventRequest({ locationId: venue!.id }));
    const ticketTypeId = event!.ticketTypes[0]!.id;
    expect(await statusOf(anonymous().getEvent({ eventId: event!.id }))).toBe('OK');
    expect(await statusOf(anonymous().listEvents({ pageSize: 5, pageToken: '', locationId: venue!.id }))).toBe('OK');
    expect((await anonymous().getTicket({ ticketTypeId })).ticketType?.id).toBe(ticketTypeId);
    expect(await statusOf(anonymous().listLocations({ pageSize: 5, pageToken: '' }))).toBe('OK');
  });

  it('refuses a token that is sent but invalid: UNAUTHENTICATED, not anonymous', async () => {
    const listed = (options: ReturnType<typeof bearer>) =>
      anonymous().listEvents({ pageSize: 1, pageToken: '' }, options);
    const foreign = await signUserToken('another-identity-providers-secret-32-chars', 'buyer-1', 60);
    const expired = await signUserToken(AUTH_JWT_SECRET, 'buyer-1', -60);
    expect(await statusOf(listed(bearer('not.a.jwt')))).toBe('UNAUTHENTICATED');
    expect(await statusOf(listed(bearer(foreign)))).toBe('UNAUTHENTICATED');
    expect((await callError(listed(bearer(expired)))).details).toBe('token expired');
  });
});

describe('event calling booking', () => {
  it('is refused by booking without the services’ key: nothing is created', async () => {
    // This event service signs its booking tokens with a key booking does not know.
    const misconfigured = await startEventHarness({
      SERVICE_AUTH_SECRET: 'not-the-key-booking-checks-service-tokens-with',
    });
    try {
      expect(await statusOf(misconfigured.client.createEvent(eventRequest()))).toBe('UNAVAILABLE');
      expect(await bookingStocks(misconfigured.booking)).toEqual([]);
      // Booking refuses the rollback's calls too: the event stays PENDING, invisible, for the cleanup job.
      expect(await misconfigured.sql`select status from event.events`).toEqual([{ status: 'PENDING' }]);
      expect((await misconfigured.client.listEvents({ pageSize: 10, pageToken: '' })).events).toEqual([]);
    } finally {
      await misconfigured.close();
    }
  });
});
