import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUpPendingEvents } from '../src/app/clean-up-pending-events.ts';
import {
  bookingStocks,
  callError,
  type EventHarness,
  eventRequest,
  eventually,
  expectConsistent,
  startEventHarness,
  statusOf,
  waitForBookingReconnect,
} from './harness.ts';

let harness: EventHarness;
beforeAll(async () => {
  harness = await startEventHarness();
});
afterAll(() => harness?.close());

const client = () => harness.client;

async function eventRowsWithKey(key: string) {
  return harness.sql<{ id: string; status: string; claim_id: string | null }[]>`
    select id, status, claim_id from event.events where idempotency_key = ${key}`;
}

/** Makes booking's own database refuse one stock: inserting a stock with `seats` seats raises, after `delay` s. */
async function refuseStocksWithSeats(seats: number, delaySeconds = 0) {
  const name = `refuse_${seats}`;
  await harness.booking.sql.unsafe(`
    create function booking.${name}() returns trigger language plpgsql as $$
    begin
      if new.seats_total = ${seats} then
        perform pg_sleep(${delaySeconds});
        raise exception 'test: booking refuses a stock of ${seats} seats';
      end if;
      return new;
    end $$;
    create trigger ${name} before insert on booking.stocks for each row execute function booking.${name}();`);
  return async () => {
    await harness.booking.sql.unsafe(`drop trigger ${name} on booking.stocks; drop function booking.${name}();`);
  };
}

describe('CreateEvent', () => {
  it('creates the event with its location and ticket types, and a stock per ticket type in booking', async () => {
    const { location } = await client().createLocation({
      name: 'Olympiahalle',
      address: 'Spiridon-Louis-Ring 21',
      city: 'München',
      countryCode: 'DE',
    });
    const request = eventRequest({
      locationId: location!.id,
      ticketTypes: [
        { name: 'Standing', price: { amountMinor: 4_500, currency: 'EUR' }, seats: 300 },
        { name: 'Balcony', price: { amountMinor: 9_900, currency: 'USD' }, seats: 40 },
      ],
    });
    const { event: created } = await client().createEvent(request);
    expect(created).toMatchObject({
      name: 'Concert',
      description: 'An evening of music',
      startsAt: request.startsAt,
      endsAt: request.endsAt,
      location: { id: location!.id, name: 'Olympiahalle', city: 'München', countryCode: 'DE' },
    });
    expect(created!.ticketTypes.map(({ name, price, seats }) => ({ name, price, seats }))).toEqual([
      { name: 'Standing', price: { amountMinor: 4_500, currency: 'EUR' }, seats: 300 },
      { name: 'Balcony', price: { amountMinor: 9_900, currency: 'USD' }, seats: 40 },
    ]);

    const { event } = await client().getEvent({ eventId: created!.id });
    expect(event).toEqual(created);

    const stocks = await bookingStocks(harness.booking, [created!.id]);
    expect(stocks).toHaveLength(2);
    for (const ticketType of created!.ticketTypes) {
      expect(stocks).toContainEqual({ eventId: created!.id, ticketTypeId: ticketType.id, seats: ticketType.seats });
      const { ticketType: fetched } = await client().getTicket({ ticketTypeId: ticketType.id });
      expect(fetched).toEqual({ ...ticketType, eventId: created!.id });
    }
    await expectConsistent(harness);
  });

  it('answers a retry with the same key with the same event and creates nothing more; other arguments: ALREADY_EXISTS', async () => {
    const request = eventRequest();
    const first = await client().createEvent(request);
    const again = await client().createEvent(request);
    expect(again).toEqual(first);
    expect(await eventRowsWithKey(request.idempotencyKey)).toHaveLength(1);
    expect(await bookingStocks(harness.booking, [first.event!.id])).toHaveLength(2);

    const changed = await callError(client().createEvent({ ...request, name: 'Another concert' }));
    expect(changed.code).toBe(6); // ALREADY_EXISTS
    expect(changed.details).toContain('idempotency_key');
    const changedSeats = { ...request, ticketTypes: [{ ...request.ticketTypes[0]!, seats: 201 }] };
    expect(await statusOf(client().createEvent(changedSeats))).toBe('ALREADY_EXISTS');
    expect(await eventRowsWithKey(request.idempotencyKey)).toHaveLength(1);
    await expectConsistent(harness);
  });

  it('stores the refund window and shows it to everyone; none given: none, and buyers may not refund', async () => {
    // The last moment of the event is still in the window.
    const request = eventRequest({ refundableUntil: new Date('2031-06-01T23:00:00Z') });
    const { event: created } = await client().createEvent(request);
    expect(created!.refundableUntil).toEqual(request.refundableUntil);
    // Public: an anonymous reader, who never sees the organizer, sees the window.
    const { event: read } = await harness.anonymous.getEvent({ eventId: created!.id });
    expect(read).toMatchObject({ organizerId: '', refundableUntil: request.refundableUntil });
    const listed = await harness.anonymous.listEvents({ pageSize: 100, pageToken: '', locationId: undefined });
    expect(listed.events.find((event) => event.id === created!.id)?.refundableUntil).toEqual(request.refundableUntil);

    const { event: withoutWindow } = await client().createEvent(eventRequest());
    expect(withoutWindow!.refundableUntil).toBeUndefined();
    expect((await client().getEvent({ eventId: withoutWindow!.id })).event!.refundableUntil).toBeUndefined();
  });

  it('takes the refund window as one of the arguments a retry must repeat', async () => {
    const request = eventRequest({ refundableUntil: new Date('2031-05-31T12:00:00Z') });
    const first = await client().createEvent(request);
    expect(await client().createEvent(request)).toEqual(first);
    for (const refundableUntil of [new Date('2031-05-31T12:00:01Z'), undefined]) {
      expect(await statusOf(client().createEvent({ ...request, refundableUntil }))).toBe('ALREADY_EXISTS');
    }
    const withoutWindow = eventRequest();
    await client().createEvent(withoutWindow);
    expect(await statusOf(client().createEvent({ ...withoutWindow, refundableUntil: withoutWindow.endsAt }))).toBe(
      'ALREADY_EXISTS',
    );
    expect(await eventRowsWithKey(request.idempotencyKey)).toHaveLength(1);
  });

  it('creates one event for 10 concurrent calls with the same key', async () => {
    const request = eventRequest();
    const answers = await Promise.all(Array.from({ length: 10 }, () => client().createEvent(request)));
    const ids = new Set(answers.map((answer) => answer.event!.id));
    expect(ids.size).toBe(1);
    expect(await eventRowsWithKey(request.idempotencyKey)).toEqual([
      expect.objectContaining({ status: 'ACTIVE', claim_id: null }),
    ]);
    expect(await bookingStocks(harness.booking, [...ids])).toHaveLength(2);
    await expectConsistent(harness);
  });

  it('rolls back both services when booking fails the second stock part-way', async () => {
    // Record what booking deletes, to prove the first stock really was created and then removed. The trigger runs
    // as its owner (security definer): booking's own role may not write to a table the test made.
    await harness.booking.sql.unsafe(`
      create table booking.test_deleted_stocks (event_id uuid, seats int);
      create function booking.record_deleted_stock() returns trigger language plpgsql security definer as $$
      begin insert into booking.test_deleted_stocks values (old.event_id, old.seats_total); return old; end $$;
      create trigger record_deleted_stock after delete on booking.stocks
        for each row execute function booking.record_deleted_stock();`);
    const allowAgain = await refuseStocksWithSeats(4_242);
    const request = eventRequest({
      ticketTypes: [
        { name: 'First', price: { amountMinor: 100, currency: 'EUR' }, seats: 4_241 },
        { name: 'Second', price: { amountMinor: 100, currency: 'EUR' }, seats: 4_242 },
      ],
    });
    try {
      const failure = await callError(client().createEvent(request));
      expect(failure.code).toBe(14); // UNAVAILABLE: booking failed, safe to retry
      expect(failure.details).toContain('idempotency_key');
      expect(await eventRowsWithKey(request.idempotencyKey)).toEqual([]);
      const [deleted] = await harness.booking.sql<{ seats: number }[]>`select seats from booking.test_deleted_stocks`;
      expect(deleted?.seats).toBe(4_241);
      const [left] = await harness.booking.sql<{ n: number }[]>`
        select count(*)::int as n from booking.stocks where seats_total in (4241, 4242)`;
      expect(left?.n).toBe(0);
    } finally {
      await allowAgain();
      await harness.booking.sql.unsafe(`
        drop trigger record_deleted_stock on booking.stocks; drop function booking.record_deleted_stock();
        drop table booking.test_deleted_stocks;`);
    }
    // Nothing of the failed attempt blocks the key: the retry creates the event.
    const { event } = await client().createEvent(request);
    expect(event!.ticketTypes.map((type) => type.seats)).toEqual([4_241, 4_242]);
    await expectConsistent(harness);
  });

  it('answers UNAVAILABLE while booking is stopped, shows nothing, and completes the same key once booking is back', async () => {
    const { location } = await client().createLocation({
      name: 'Hall while booking is down',
      address: '',
      city: '',
      countryCode: '',
    });
    const request = eventRequest({ locationId: location!.id });
    await harness.booking.stop();
    try {
      const failure = await callError(client().createEvent(request));
      expect(failure.code).toBe(14); // UNAVAILABLE
      const [row] = await eventRowsWithKey(request.idempotencyKey);
      // Booking was unreachable even for the rollback: the event is kept PENDING, invisible, for a retry to resume.
      expect(row).toMatchObject({ status: 'PENDING', claim_id: null });
      expect(await statusOf(client().getEvent({ eventId: row!.id }))).toBe('NOT_FOUND');
      expect((await client().listEvents({ locationId: location!.id })).events).toEqual([]);
      const [ticketType] = await harness.sql<
        { id: string }[]
      >`select id from event.ticket_types where event_id = ${row!.id}`;
      expect(await statusOf(client().getTicket({ ticketTypeId: ticketType!.id }))).toBe('NOT_FOUND');
    } finally {
      await harness.booking.start();
    }
    await waitForBookingReconnect();
    const { event } = await client().createEvent(request);
    const [row] = await eventRowsWithKey(request.idempotencyKey);
    expect(event!.id).toBe(row!.id); // resumed, not created a second time
    expect((await client().listEvents({ locationId: location!.id })).events.map((e) => e.id)).toEqual([event!.id]);
    expect(await bookingStocks(harness.booking, [event!.id])).toHaveLength(2);
    await expectConsistent(harness);
  });

  it('keeps the event invisible when the rollback fails too, and the cleanup removes its orphan stock later', async () => {
    // The second stock takes a while and then fails; booking is stopped meanwhile, so the rollback cannot reach it.
    const allowAgain = await refuseStocksWithSeats(4_343, 1.5);
    const request = eventRequest({
      ticketTypes: [
        { name: 'Made', price: { amountMinor: 100, currency: 'EUR' }, seats: 4_344 },
        { name: 'Refused', price: { amountMinor: 100, currency: 'EUR' }, seats: 4_343 },
      ],
    });
    let eventId: string;
    try {
      const call = callError(client().createEvent(request));
      await eventually(async () => {
        const [made] = await harness.booking.sql`select 1 from booking.stocks where seats_total = 4344`;
        return made !== undefined;
      }, 'the first stock');
      await harness.booking.stop();
      expect((await call).code).toBe(14); // UNAVAILABLE
      const [row] = await eventRowsWithKey(request.idempotencyKey);
      expect(row).toMatchObject({ status: 'PENDING' });
      eventId = row!.id;
      expect(await statusOf(client().getEvent({ eventId }))).toBe('NOT_FOUND');
    } finally {
      await allowAgain().catch(() => {}); // booking's database is still up even when the service is not
      await harness.booking.start();
    }
    expect(await bookingStocks(harness.booking, [eventId])).toHaveLength(1); // the orphan
    await waitForBookingReconnect();

    // Within PENDING_EVENT_TIMEOUT_SECONDS the event is left alone: a retry may still resume it.
    expect(await cleanUpPendingEvents(harness.service.context)).toEqual({ removed: 0, failed: 0 });
    expect(await eventRowsWithKey(request.idempotencyKey)).toHaveLength(1);

    // Let the timeout pass (by moving the event's last activity back rather than sleeping a minute).
    await harness.sql`update event.events set updated_at = now() - interval '61 seconds' where id = ${eventId}`;
    expect(await cleanUpPendingEvents(harness.service.context)).toEqual({ removed: 1, failed: 0 });
    expect(await eventRowsWithKey(request.idempotencyKey)).toEqual([]);
    expect(await harness.sql`select 1 from event.ticket_types where event_id = ${eventId}`).toHaveLength(0);
    expect(await bookingStocks(harness.booking, [eventId])).toEqual([]);
    await expectConsistent(harness);
  });

  it('lets exactly one of a resumed CreateEvent and the cleanup act on each stale event', async () => {
    // Five events left PENDING by a booking outage, all stale; then their retries race one cleanup run.
    const requests = Array.from({ length: 5 }, () => eventRequest());
    await harness.booking.stop();
    try {
      const failures = await Promise.all(requests.map((request) => statusOf(client().createEvent(request))));
      expect(failures).toEqual(requests.map(() => 'UNAVAILABLE'));
    } finally {
      await harness.booking.start();
    }
    await waitForBookingReconnect();
    await harness.sql`update event.events set updated_at = now() - interval '61 seconds' where status = 'PENDING'`;

    const [cleanup, ...retries] = await Promise.all([
      cleanUpPendingEvents(harness.service.context),
      ...requests.map((request) => statusOf(client().createEvent(request))),
    ]);
    // A retry either resumed its event (OK), or found it being rolled back (UNAVAILABLE), or came after the
    // rollback and created a fresh event (OK). Whatever the interleaving, the services agree afterwards.
    for (const status of retries) expect(['OK', 'UNAVAILABLE']).toContain(status);
    expect(cleanup.failed).toBe(0);
    const resumedOrFresh = retries.filter((status) => status === 'OK').length;
    expect(cleanup.removed + resumedOrFresh).toBeGreaterThanOrEqual(5);
    const { unfinished } = await expectConsistent(harness);
    expect(unfinished).toBe(0);
  });
});
