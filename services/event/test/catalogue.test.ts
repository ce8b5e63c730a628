import { randomUUID } from 'node:crypto';
import type { CreateEventRequest, Event, Location } from '@ticket/contracts/v1/event/event_service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAGE_SIZE } from '../src/grpc/requests.ts';
import {
  callError,
  type EventHarness,
  eventRequest,
  expectConsistent,
  startEventHarness,
  statusOf,
} from './harness.ts';

let harness: EventHarness;
beforeAll(async () => {
  harness = await startEventHarness();
});
afterAll(() => harness?.close());

const client = () => harness.client;

async function newLocation(name: string) {
  const { location } = await client().createLocation({ name, address: 'Street 1', city: 'Berlin', countryCode: 'DE' });
  return location!;
}

/** Creates the events, a few calls at a time. */
async function createEvents(requests: readonly CreateEventRequest[]): Promise<Event[]> {
  const created: Event[] = [];
  for (let start = 0; start < requests.length; start += 8) {
    const batch = await Promise.all(requests.slice(start, start + 8).map((request) => client().createEvent(request)));
    created.push(...batch.map((answer) => answer.event!));
  }
  return created;
}

/** Every event of the filter, page by page; also the number of pages. */
async function walkEvents(locationId: string | undefined, pageSize: number) {
  const seen: Event[] = [];
  let pageToken = '';
  let pages = 0;
  do {
    const page = await client().listEvents({ locationId, pageSize, pageToken });
    expect(page.events.length).toBeLessThanOrEqual(pageSize);
    seen.push(...page.events);
    pageToken = page.nextPageToken;
    pages += 1;
  } while (pageToken !== '' && pages < 100);
  return { seen, pages };
}

const byStartThenId = (a: Event, b: Event) =>
  a.startsAt!.getTime() - b.startsAt!.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

describe('ListEvents', () => {
  it('walks all events in (starts_at, id) order across pages, equal start times included', async () => {
    const location = await newLocation('Paged hall');
    const day = Date.parse('2032-03-01T20:00:00Z');
    // 25 events on 6 distinct start times, created in scrambled order: many share a start time, so the id decides.
    const requests = Array.from({ length: 25 }, (_, index) => {
      const startsAt = new Date(day + ((index * 7) % 6) * 3_600_000);
      return eventRequest({
        name: `Event ${index}`,
        locationId: location.id,
        startsAt,
        endsAt: new Date(startsAt.getTime() + 3_600_000),
        ticketTypes: [{ name: 'Seat', price: { amountMinor: 1_000 + index, currency: 'EUR' }, seats: 10 }],
      });
    });
    const created = await createEvents(requests);
    const expected = [...created].sort(byStartThenId);

    const { seen, pages } = await walkEvents(location.id, 7);
    expect(pages).toBe(4); // 7 + 7 + 7 + 4
    expect(seen.map((event) => event.id)).toEqual(expected.map((event) => event.id));
    // Each event comes with its ticket types and location, from the two page queries.
    for (const event of seen) {
      const original = created.find((candidate) => candidate.id === event.id)!;
      expect(event).toEqual(original);
      expect(event.location?.id).toBe(location.id);
    }
  });

  it('filters by location, and answers NOT_FOUND for an unknown one', async () => {
    const [here, there, empty] = [await newLocation('Here'), await newLocation('There'), await newLocation('Empty')];
    const [a, b] = await createEvents([eventRequest({ locationId: here.id }), eventRequest({ locationId: here.id })]);
    const [c] = await createEvents([eventRequest({ locationId: there.id })]);
    const atHere = await client().listEvents({ locationId: here.id });
    expect(atHere.events.map((event) => event.id).sort()).toEqual([a!.id, b!.id].sort());
    expect(atHere.nextPageToken).toBe('');
    expect((await client().listEvents({ locationId: there.id })).events.map((event) => event.id)).toEqual([c!.id]);
    expect(await client().listEvents({ locationId: empty.id })).toEqual({ events: [], nextPageToken: '' });

    const unknown = await callError(client().listEvents({ locationId: randomUUID() }));
    expect(unknown.code).toBe(5); // NOT_FOUND
    expect(unknown.details).toContain('location');
    // Without a filter, every location's events are listed.
    const all = await walkEvents(undefined, 100);
    expect(all.seen.map((event) => event.id)).toEqual(expect.arrayContaining([a!.id, b!.id, c!.id]));
  });

  it('refuses malformed page tokens and tokens of another filter or list, naming page_token', async () => {
    const location = await newLocation('Token hall');
    await createEvents([eventRequest({ locationId: location.id }), eventRequest({ locationId: location.id })]);
    const { nextPageToken } = await client().listEvents({ locationId: location.id, pageSize: 1 });
    expect(nextPageToken).not.toBe('');
    const { nextPageToken: locationsToken } = await client().listLocations({ pageSize: 1 });

    const forged = Buffer.from(JSON.stringify({ k: 'events', s: 'yesterday', i: 'x', l: null })).toString('base64url');
    for (const pageToken of ['garbage!', 'bm90IGpzb24', forged, locationsToken, `${nextPageToken}x`]) {
      const error = await callError(client().listEvents({ locationId: location.id, pageToken }));
      expect([error.code, error.details]).toEqual([3, expect.stringContaining('page_token')]);
    }
    // The token carries its location filter: it cannot be replayed without it or with another one.
    for (const locationId of [undefined, (await newLocation('Other')).id]) {
      const error = await callError(client().listEvents({ locationId, pageToken: nextPageToken }));
      expect([error.code, error.details]).toEqual([3, expect.stringContaining('page_token')]);
    }
    const negative = await callError(client().listEvents({ pageSize: -1 }));
    expect([negative.code, negative.details]).toEqual([3, expect.stringContaining('page_size')]);
  });

  it(`lowers a page size above the maximum (${PAGE_SIZE.max}) and uses ${PAGE_SIZE.fallback} when it is 0`, async () => {
    const location = await newLocation('Big hall');
    const requests = Array.from({ length: PAGE_SIZE.max + 5 }, (_, index) =>
      eventRequest({
        locationId: location.id,
        ticketTypes: [{ name: 'Seat', price: { amountMinor: index, currency: 'EUR' }, seats: 1 }],
      }),
    );
    await createEvents(requests);
    const big = await client().listEvents({ locationId: location.id, pageSize: 10_000 });
    expect(big.events).toHaveLength(PAGE_SIZE.max);
    expect(big.nextPageToken).not.toBe('');
    const rest = await client().listEvents({ locationId: location.id, pageSize: 10_000, pageToken: big.nextPageToken });
    expect(rest.events).toHaveLength(5);
    expect(rest.nextPageToken).toBe('');
    expect((await client().listEvents({ locationId: location.id })).events).toHaveLength(PAGE_SIZE.fallback);
    await expectConsistent(harness);
  });
});

describe('locations', () => {
  it('creates locations and lists them by name, then id, page by page', async () => {
    const names = ['Zenith', 'Arena', 'Moon hall', 'Arena', 'Bay stage', 'Arena'];
    const created: Location[] = [];
    for (const name of names) created.push(await newLocation(name));
    const everything = [];
    let pageToken = '';
    do {
      const page = await client().listLocations({ pageSize: 2, pageToken });
      expect(page.locations.length).toBeLessThanOrEqual(2);
      everything.push(...page.locations);
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    // Other tests' locations are in the list too; ours appear in (name, id) order among them.
    const ours = everything.filter((location) => created.some((mine) => mine.id === location.id));
    const expected = [...created].sort((a, b) =>
      a.name === b.name ? (a.id < b.id ? -1 : 1) : a.name < b.name ? -1 : 1,
    );
    expect(ours.map((location) => location.id)).toEqual(expected.map((location) => location.id));
    expect(new Set(everything.map((location) => location.id)).size).toBe(everything.length);
    expect(created[0]).toMatchObject({ name: 'Zenith', address: 'Street 1', city: 'Berlin', countryCode: 'DE' });
    expect(created[0]!.createdAt).toBeInstanceOf(Date);
  });

  it('accepts a location without address, city or country', async () => {
    const { location } = await client().createLocation({ name: 'Somewhere', address: '', city: '', countryCode: '' });
    expect(location).toMatchObject({ name: 'Somewhere', countryCode: '' });
  });

  it('refuses a malformed page token', async () => {
    const error = await callError(client().listLocations({ pageToken: 'nope' }));
    expect([error.code, error.details]).toEqual([3, expect.stringContaining('page_token')]);
  });
});

describe('GetEvent and GetTicket', () => {
  it('answer NOT_FOUND for unknown ids and INVALID_ARGUMENT for malformed ones', async () => {
    expect(await statusOf(client().getEvent({ eventId: randomUUID() }))).toBe('NOT_FOUND');
    expect(await statusOf(client().getTicket({ ticketTypeId: randomUUID() }))).toBe('NOT_FOUND');
    const badEvent = await callError(client().getEvent({ eventId: 'not-a-uuid' }));
    expect([badEvent.code, badEvent.details]).toEqual([3, expect.stringContaining('event_id')]);
    const badTicket = await callError(client().getTicket({ ticketTypeId: '' }));
    expect([badTicket.code, badTicket.details]).toEqual([3, expect.stringContaining('ticket_type_id')]);
  });

  it('accepts upper-case ids', async () => {
    const { event } = await client().createEvent(eventRequest());
    expect((await client().getEvent({ eventId: event!.id.toUpperCase() })).event?.id).toBe(event!.id);
  });
});

describe('CreateEvent validation', () => {
  const valid = eventRequest();
  const withTicket = (index: number, change: Partial<CreateEventRequest['ticketTypes'][number]>) => ({
    ticketTypes: valid.ticketTypes.map((type, at) => (at === index ? { ...type, ...change } : type)),
  });
  const ticketSpec = (name: string) => ({ name, price: { amountMinor: 100, currency: 'EUR' }, seats: 1 });
  const cases: [string, Partial<CreateEventRequest>, string][] = [
    ['missing idempotency key', { idempotencyKey: '' }, 'idempotency_key'],
    ['empty name', { name: '   ' }, 'name'],
    ['missing starts_at', { startsAt: undefined }, 'starts_at'],
    ['starts_at in the past', { startsAt: new Date(Date.now() - 60_000) }, 'starts_at'],
    ['missing ends_at', { endsAt: undefined }, 'ends_at'],
    ['ends_at before starts_at', { endsAt: new Date('2031-06-01T18:00:00Z') }, 'ends_at'],
    ['ends_at equal to starts_at', { endsAt: valid.startsAt }, 'ends_at'],
    ['refundable_until after ends_at', { refundableUntil: new Date('2031-06-01T23:00:00.001Z') }, 'refundable_until'],
    ['refundable_until out of range', { refundableUntil: new Date('0000-12-31T00:00:00Z') }, 'refundable_until'],
    ['no ticket types', { ticketTypes: [] }, 'ticket_types'],
    ['empty ticket type name', withTicket(1, { name: '' }), 'ticket_types[1].name'],
    ['zero seats', withTicket(1, { seats: 0 }), 'ticket_types[1].seats'],
    ['negative seats', withTicket(0, { seats: -5 }), 'ticket_types[0].seats'],
    [
      'negative price',
      withTicket(1, { price: { amountMinor: -1, currency: 'EUR' } }),
      'ticket_types[1].price.amount_minor',
    ],
    [
      'unknown currency',
      withTicket(1, { price: { amountMinor: 100, currency: 'XYZ' } }),
      'ticket_types[1].price.currency',
    ],
    [
      'lower-case currency',
      withTicket(0, { price: { amountMinor: 100, currency: 'eur' } }),
      'ticket_types[0].price.currency',
    ],
    ['missing price', withTicket(1, { price: undefined }), 'ticket_types[1].price'],
    ['duplicate ticket type names', withTicket(1, { name: 'standing' }), 'ticket_types[1].name'],
    ['malformed location id', { locationId: 'venue-7' }, 'location_id'],
    ['NUL in the name', { name: 'Summer\u0000Night' }, 'name'],
    ['NUL in the description', { description: 'a\u0000b' }, 'description'],
    ['names equal only to Postgres (İ and i)', { ticketTypes: [ticketSpec('İ'), ticketSpec('i')] }, 'ticket_types'],
  ];

  it.each(cases)('answers INVALID_ARGUMENT naming the field: %s', async (_, change, field) => {
    const error = await callError(client().createEvent({ ...eventRequest(), ...change }));
    expect(error.code).toBe(3); // INVALID_ARGUMENT
    expect(error.details).toContain(field);
  });

  it('names every bad field at once and creates nothing', async () => {
    const request = { ...eventRequest(), name: '', ...withTicket(0, { seats: 0 }) };
    const error = await callError(client().createEvent(request));
    expect(error.details).toContain('name');
    expect(error.details).toContain('ticket_types[0].seats');
    expect(await harness.sql`select 1 from event.events where idempotency_key = ${request.idempotencyKey}`).toEqual([]);
  });

  it('answers NOT_FOUND for an unknown location and leaves nothing behind', async () => {
    const request = eventRequest({ locationId: randomUUID() });
    const error = await callError(client().createEvent(request));
    expect([error.code, error.details]).toEqual([5, expect.stringContaining(request.locationId!)]);
    expect(await harness.sql`select 1 from event.events where idempotency_key = ${request.idempotencyKey}`).toEqual([]);
    await expectConsistent(harness);
  });

  it('allows different currencies for the ticket types of one event, and free tickets', async () => {
    const { event } = await client().createEvent(
      eventRequest({
        ticketTypes: [
          { name: 'Euro', price: { amountMinor: 1_050, currency: 'EUR' }, seats: 1 },
          { name: 'Yen', price: { amountMinor: 500, currency: 'JPY' }, seats: 2 },
          { name: 'Guest list', price: { amountMinor: 0, currency: 'USD' }, seats: 3 },
        ],
      }),
    );
    expect(event!.ticketTypes.map((type) => type.price)).toEqual([
      { amountMinor: 1_050, currency: 'EUR' },
      { amountMinor: 500, currency: 'JPY' },
      { amountMinor: 0, currency: 'USD' },
    ]);
  });
});

describe('CreateLocation validation', () => {
  it.each([
    ['empty name', { name: ' ' }, 'name'],
    ['lower-case country', { countryCode: 'de' }, 'country_code'],
    ['unknown country', { countryCode: 'QQ' }, 'country_code'],
    ['three-letter country', { countryCode: 'DEU' }, 'country_code'],
    ['NUL in the name', { name: 'Ha\u0000ll' }, 'name'],
    ['NUL in the city', { city: 'Ber\u0000lin' }, 'city'],
  ])('answers INVALID_ARGUMENT naming the field: %s', async (_, change, field) => {
    const error = await callError(
      client().createLocation({ name: 'Hall', address: '', city: '', countryCode: 'DE', ...change }),
    );
    expect([error.code, error.details]).toEqual([3, expect.stringContaining(field)]);
  });
});
