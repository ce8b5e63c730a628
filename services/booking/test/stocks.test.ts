import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { releaseLapsedHolds } from '../src/app/release-lapsed-holds.ts';
import { type BookingHarness, sleep, startBookingHarness, statusOf, stockLedger } from './harness.ts';

let harness: BookingHarness;
beforeAll(async () => {
  harness = await startBookingHarness({ HOLD_TTL_SECONDS: '1' });
});
afterAll(() => harness?.close());

/** Stocks are event's to create and delete; holds and sales are checkout's. */
const asEvent = () => harness.asEvent;
const asCheckout = () => harness.clients[0]!.client;

describe('stocks', () => {
  it('creates a stock per (event, ticket type), once', async () => {
    const key = { eventId: randomUUID(), ticketTypeId: randomUUID() };
    const { stock } = await asEvent().createStock({ ...key, seatsTotal: 40 });
    expect(stock).toMatchObject({ ...key, seatsTotal: 40, seatsBooked: 0, seatsAvailable: 40 });
    expect(stock?.createdAt).toBeInstanceOf(Date);
    expect(await statusOf(asEvent().createStock({ ...key, seatsTotal: 40 }))).toBe('ALREADY_EXISTS');
    expect((await asEvent().getStock(key)).stock?.id).toBe(stock?.id);
  });

  it('lists the stocks of an event, optionally of one ticket type', async () => {
    const eventId = randomUUID();
    const [a, b] = [randomUUID(), randomUUID()];
    await asEvent().createStock({ eventId, ticketTypeId: a, seatsTotal: 10 });
    await asEvent().createStock({ eventId, ticketTypeId: b, seatsTotal: 20 });
    await asEvent().createStock({ eventId: randomUUID(), ticketTypeId: a, seatsTotal: 5 });
    const all = await asEvent().getStocks({ eventId });
    expect(all.stocks.map((stock) => stock.ticketTypeId).sort()).toEqual([a, b].sort());
    const one = await asEvent().getStocks({ eventId, ticketTypeId: b });
    expect(one.stocks.map((stock) => stock.seatsTotal)).toEqual([20]);
    expect((await asEvent().getStocks({ eventId: randomUUID() })).stocks).toEqual([]);
  });

  it('counts the seats of lapsed holds as available before the sweep, and as booked until it runs', async () => {
    const key = { eventId: randomUUID(), ticketTypeId: randomUUID() };
    const { stock } = await asEvent().createStock({ ...key, seatsTotal: 3 });
    await asCheckout().createBooking({
      ...key,
      orderId: randomUUID(),
      userId: 'u',
      seats: 3,
      idempotencyKey: randomUUID(),
    });
    expect((await asEvent().getStock(key)).stock).toMatchObject({ seatsBooked: 3, seatsAvailable: 0 });

    // The hold lapses after HOLD_TTL_SECONDS; the sweep is daily in the harness, so none runs meanwhile.
    const lapsed = { seatsTotal: 3, seatsBooked: 3, seatsAvailable: 3 };
    await vi.waitFor(async () => expect((await asEvent().getStock(key)).stock).toMatchObject(lapsed), {
      timeout: 5_000,
      interval: 100,
    });
    expect((await asEvent().getStocks({ eventId: key.eventId })).stocks).toMatchObject([lapsed]);
    expect(await stockLedger(harness.sql, stock!.id)).toEqual({ total: 3, booked: 3, liveOrSold: 3 });

    await releaseLapsedHolds(harness.services[0]!.context);
    expect((await asEvent().getStock(key)).stock).toMatchObject({ seatsBooked: 0, seatsAvailable: 3 });
  });

  it('answers NOT_FOUND for a stock that does not exist', async () => {
    const key = { eventId: randomUUID(), ticketTypeId: randomUUID() };
    expect(await statusOf(asEvent().getStock(key))).toBe('NOT_FOUND');
    expect(await statusOf(asEvent().deleteStock(key))).toBe('NOT_FOUND');
  });

  it('refuses to delete a stock with live holds or sold seats, and deletes it once they are gone', async () => {
    const key = { eventId: randomUUID(), ticketTypeId: randomUUID() };
    await asEvent().createStock({ ...key, seatsTotal: 10 });
    const sold = randomUUID();
    await asCheckout().createBooking({ ...key, orderId: sold, userId: 'u', seats: 2, idempotencyKey: randomUUID() });
    await asCheckout().deleteOrderBookings({ orderId: sold });
    expect(await statusOf(asEvent().deleteStock(key))).toBe('FAILED_PRECONDITION');

    const other = { eventId: randomUUID(), ticketTypeId: randomUUID() };
    await asEvent().createStock({ ...other, seatsTotal: 10 });
    const held = await asCheckout().createBooking({
      ...other,
      orderId: randomUUID(),
      userId: 'u',
      seats: 3,
      idempotencyKey: randomUUID(),
    });
    expect(await statusOf(asEvent().deleteStock(other))).toBe('FAILED_PRECONDITION');
    // Once the hold lapsed it no longer counts, even before the sweep ran.
    await sleep(1_100);
    expect(await statusOf(asEvent().deleteStock(other))).toBe('OK');
    expect(await statusOf(asEvent().getStock(other))).toBe('NOT_FOUND');
    const [row] = await harness.sql`select count(*)::int as n from booking.bookings where id = ${held.booking!.id}`;
    expect(row?.n).toBe(0);
  });

  it('keeps 0 <= seats_booked <= seats_total in the database itself', async () => {
    const key = { eventId: randomUUID(), ticketTypeId: randomUUID() };
    const { stock } = await asEvent().createStock({ ...key, seatsTotal: 3 });
    await expect(harness.sql`update booking.stocks set seats_booked = 4 where id = ${stock!.id}`).rejects.toThrow(
      /stocks_seats_booked_within_total/,
    );
    await expect(harness.sql`update booking.stocks set seats_booked = -1 where id = ${stock!.id}`).rejects.toThrow(
      /stocks_seats_booked_within_total/,
    );
    await expect(
      harness.sql`insert into booking.stocks (event_id, ticket_type_id, seats_total) values (${randomUUID()}, ${randomUUID()}, 0)`,
    ).rejects.toThrow(/stocks_seats_total_positive/);
  });
});
