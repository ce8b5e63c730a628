import { EventTypeHeader } from '@ticket/contracts/topology';
import { BookingsExpired } from '@ticket/contracts/v1/booking/booking_events';
import { BookingStatus } from '@ticket/contracts/v1/booking/booking_service';
import { createKafka } from '@ticket/platform';
import { readMessages, testKafkaBrokers } from '@ticket/platform/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { releaseLapsedHolds } from '../src/app/release-lapsed-holds.ts';
import {
  type BookingHarness,
  holdRequest,
  logger,
  newStockKey,
  sleep,
  startBookingHarness,
  statusOf,
  stockLedger,
} from './harness.ts';

const HOLD_TTL_MS = 1_000;
const kafka = createKafka({ clientId: 'booking-expiry-test', brokers: testKafkaBrokers(), logger });

async function newStock(harness: BookingHarness, seatsTotal: number) {
  const key = newStockKey();
  const { stock } = await harness.asEvent.createStock({ ...key, seatsTotal });
  return { key, stockId: stock!.id };
}

/** The expiry events on the harness's topic, decoded, once `count` have arrived. */
async function expiryEvents(harness: BookingHarness, count: number) {
  const messages = await readMessages(kafka, harness.topic, count);
  return messages.map((message) => {
    expect(message.headers['event-type']).toBe(EventTypeHeader.bookingsExpired);
    const event = BookingsExpired.decode(message.value!);
    expect(message.key).toBe(event.orderId);
    expect(message.headers['event-id']).toBe(event.eventId);
    return event;
  });
}

async function outboxCount(harness: BookingHarness): Promise<number> {
  const [row] = await harness.sql<{ n: number }[]>`select count(*)::int as n from booking.outbox`;
  return row!.n;
}

describe('expiry sweep', () => {
  let harness: BookingHarness;
  beforeAll(async () => {
    harness = await startBookingHarness({ HOLD_TTL_SECONDS: String(HOLD_TTL_MS / 1000), EXPIRY_BATCH_SIZE: '7' });
    await harness.addReplica();
  });
  afterAll(() => harness?.close());

  it('releases lapsed holds once, restores the stock and announces one event per order, with two replicas sweeping', async () => {
    const [a, b] = [await newStock(harness, 100), await newStock(harness, 100)];
    const client = harness.clients[0]!.client;
    // 12 orders, each holding seats of both stocks: 24 holds, two sweep batches of 7 orders.
    const orders = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const first = await client.createBooking(holdRequest(a.key, { seats: 2 }));
        const orderId = first.booking!.orderId;
        await client.createBooking(holdRequest(b.key, { orderId, seats: 3 }));
        return orderId;
      }),
    );
    expect(await stockLedger(harness.sql, a.stockId)).toMatchObject({ booked: 24 });
    await sleep(HOLD_TTL_MS + 100);

    const released = await Promise.all(harness.services.map((service) => releaseLapsedHolds(service.context)));
    expect(released[0]! + released[1]!).toBe(24);
    expect(await stockLedger(harness.sql, a.stockId)).toEqual({ total: 100, booked: 0, liveOrSold: 0 });
    expect(await stockLedger(harness.sql, b.stockId)).toEqual({ total: 100, booked: 0, liveOrSold: 0 });
    // A second sweep finds nothing.
    expect(await releaseLapsedHolds(harness.services[0]!.context)).toBe(0);

    // A batch takes whole orders (7 at most), so each order is announced once, with both its holds.
    expect(await outboxCount(harness)).toBe(orders.length);
    const events = await expiryEvents(harness, orders.length);
    const releasedHolds = events.flatMap((event) => event.bookings);
    expect(releasedHolds).toHaveLength(24);
    expect(new Set(releasedHolds.map((booking) => booking.id)).size).toBe(24);
    expect(new Set(events.map((event) => event.orderId))).toEqual(new Set(orders));
    for (const booking of releasedHolds) expect(booking.status).toBe(BookingStatus.BOOKING_STATUS_EXPIRED);
    for (const orderId of orders) {
      const { bookings } = await client.getBookings({ orderId, includeExpired: true });
      expect(bookings.map((booking) => booking.status)).toEqual([
        BookingStatus.BOOKING_STATUS_EXPIRED,
        BookingStatus.BOOKING_STATUS_EXPIRED,
      ]);
      expect((await client.getBookings({ orderId, includeExpired: false })).bookings).toEqual([]);
    }
  });

  it('lets a new buyer take the seats of a lapsed hold before the sweep ran, and announces that expiry', async () => {
    const { key, stockId } = await newStock(harness, 4);
    const client = harness.clients[0]!.client;
    const before = await outboxCount(harness);
    const lapsed = await client.createBooking(holdRequest(key, { seats: 4 }));
    expect(await statusOf(client.createBooking(holdRequest(key, { seats: 1 })))).toBe('RESOURCE_EXHAUSTED');
    await sleep(HOLD_TTL_MS + 100);

    const { booking } = await client.createBooking(holdRequest(key, { seats: 3 }));
    expect(booking?.status).toBe(BookingStatus.BOOKING_STATUS_HELD);
    expect(await stockLedger(harness.sql, stockId)).toEqual({ total: 4, booked: 3, liveOrSold: 3 });
    const [ended] = (await client.getBookings({ orderId: lapsed.booking!.orderId, includeExpired: true })).bookings;
    expect(ended?.status).toBe(BookingStatus.BOOKING_STATUS_EXPIRED);
    expect(await outboxCount(harness)).toBe(before + 1);
    const events = await expiryEvents(harness, before + 1);
    expect(events.some((event) => event.orderId === lapsed.booking!.orderId)).toBe(true);
  });

  it('pay racing expiry: each order ends all sold or all expired, and the stock is exact', async () => {
    const [a, b] = [await newStock(harness, 500), await newStock(harness, 500)];
    const client = (index: number) => harness.clients[index % 2]!.client;
    const orders = await Promise.all(
      Array.from({ length: 40 }, async (_, index) => {
        const first = await client(index).createBooking(holdRequest(a.key, { seats: 1 + (index % 3) }));
        const orderId = first.booking!.orderId;
        await client(index).createBooking(holdRequest(b.key, { orderId, seats: 1 }));
        return { orderId, placedAt: Date.now() };
      }),
    );

    // Payments spread from well before to well after the holds lapse, while both replicas sweep nonstop.
    let sweeping = true;
    const sweeps = harness.services.map(async (service) => {
      while (sweeping) {
        await releaseLapsedHolds(service.context);
        await sleep(5);
      }
    });
    const payments = orders.map(async ({ orderId, placedAt }, index) => {
      await sleep(Math.max(0, placedAt + 400 + index * 30 - Date.now()));
      return statusOf(client(index).deleteOrderBookings({ orderId }));
    });
    const answers = await Promise.all(payments);
    await sleep(HOLD_TTL_MS);
    sweeping = false;
    await Promise.all(sweeps);

    let soldSeats = { a: 0, b: 0 };
    for (const [index, { orderId }] of orders.entries()) {
      const { bookings } = await client(0).getBookings({ orderId, includeExpired: true });
      const statuses = new Set(bookings.map((booking) => booking.status));
      expect(bookings).toHaveLength(2);
      expect(statuses.size).toBe(1);
      if (answers[index] === 'OK') {
        expect(statuses).toEqual(new Set([BookingStatus.BOOKING_STATUS_SOLD]));
        soldSeats = { a: soldSeats.a + bookings.find((x) => x.stockId === a.stockId)!.seats, b: soldSeats.b + 1 };
      } else {
        expect(answers[index]).toBe('FAILED_PRECONDITION');
        expect(statuses).toEqual(new Set([BookingStatus.BOOKING_STATUS_EXPIRED]));
      }
    }
    // Both outcomes happened, so the race was real.
    expect(answers).toContain('OK');
    expect(answers).toContain('FAILED_PRECONDITION');
    expect(await stockLedger(harness.sql, a.stockId)).toEqual({
      total: 500,
      booked: soldSeats.a,
      liveOrSold: soldSeats.a,
    });
    expect(await stockLedger(harness.sql, b.stockId)).toEqual({
      total: 500,
      booked: soldSeats.b,
      liveOrSold: soldSeats.b,
    });
  });
});

describe('expiry job', () => {
  let harness: BookingHarness;
  beforeAll(async () => {
    harness = await startBookingHarness({ HOLD_TTL_SECONDS: '1', EXPIRY_SCHEDULE: '* * * * * *' });
  });
  afterAll(() => harness?.close());

  it('runs on its schedule and releases lapsed holds by itself', async () => {
    const { key, stockId } = await newStock(harness, 10);
    const { booking } = await harness.clients[0]!.client.createBooking(holdRequest(key, { seats: 6 }));
    await vi.waitFor(
      async () => expect(await stockLedger(harness.sql, stockId)).toEqual({ total: 10, booked: 0, liveOrSold: 0 }),
      { timeout: 15_000, interval: 200 },
    );
    const [event] = await expiryEvents(harness, 1);
    expect(event?.orderId).toBe(booking!.orderId);
  });
});
