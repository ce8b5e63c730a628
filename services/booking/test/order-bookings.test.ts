import { randomUUID } from 'node:crypto';
import { BookingStatus } from '@ticket/contracts/v1/booking/booking_service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BookingHarness,
  errorOf,
  holdRequest,
  newStockKey,
  sleep,
  startBookingHarness,
  statusOf,
  stockLedger,
} from './harness.ts';

const { BOOKING_STATUS_HELD: HELD, BOOKING_STATUS_SOLD: SOLD, BOOKING_STATUS_RELEASED: RELEASED } = BookingStatus;

let harness: BookingHarness;
beforeAll(async () => {
  harness = await startBookingHarness();
});
afterAll(() => harness?.close());

const client = () => harness.clients[0]!.client;

async function newStock(seatsTotal: number) {
  const key = newStockKey();
  const { stock } = await harness.asEvent.createStock({ ...key, seatsTotal });
  return { key, stockId: stock!.id };
}

/** An order holding 2 seats of stock a and 3 of stock b. */
async function orderOnTwoStocks() {
  const [a, b] = [await newStock(10), await newStock(10)];
  const orderId = randomUUID();
  const first = await client().createBooking(holdRequest(a.key, { orderId, seats: 2 }));
  const second = await client().createBooking(holdRequest(b.key, { orderId, seats: 3 }));
  return { a, b, orderId, holds: [first.booking!, second.booking!] };
}

describe('GetBookings', () => {
  it('lists the live and sold bookings of an order, and the ended ones when asked', async () => {
    const { orderId, holds } = await orderOnTwoStocks();
    expect((await client().getBookings({ orderId, includeExpired: false })).bookings.map((b) => b.id)).toEqual(
      holds.map((hold) => hold.id),
    );
    await client().expireBookings({ orderId, bookingIds: [holds[0]!.id] });
    const live = await client().getBookings({ orderId, includeExpired: false });
    expect(live.bookings.map((booking) => [booking.id, booking.status])).toEqual([[holds[1]!.id, HELD]]);
    const all = await client().getBookings({ orderId, includeExpired: true });
    expect(all.bookings.map((booking) => booking.status)).toEqual([RELEASED, HELD]);
    expect((await client().getBookings({ orderId: randomUUID(), includeExpired: true })).bookings).toEqual([]);
  });
});

describe('ExpireBookings', () => {
  it('releases exactly the named live holds of the order, once', async () => {
    const { a, b, orderId, holds } = await orderOnTwoStocks();
    const other = await client().createBooking(holdRequest(a.key, { seats: 4 }));

    // Names one hold of the order, another order's hold and an unknown id: only the first is released.
    const { bookings: released } = await client().expireBookings({
      orderId,
      bookingIds: [holds[0]!.id, other.booking!.id, randomUUID()],
    });
    expect(released.map((booking) => [booking.id, booking.status])).toEqual([[holds[0]!.id, RELEASED]]);
    expect(await stockLedger(harness.sql, a.stockId)).toEqual({ total: 10, booked: 4, liveOrSold: 4 });
    expect(await stockLedger(harness.sql, b.stockId)).toEqual({ total: 10, booked: 3, liveOrSold: 3 });

    // A repeat releases nothing twice.
    expect((await client().expireBookings({ orderId, bookingIds: [holds[0]!.id] })).bookings).toEqual([]);
    expect(await stockLedger(harness.sql, a.stockId)).toEqual({ total: 10, booked: 4, liveOrSold: 4 });
  });

  it('leaves sold bookings sold', async () => {
    const { a, orderId, holds } = await orderOnTwoStocks();
    await client().deleteOrderBookings({ orderId });
    expect((await client().expireBookings({ orderId, bookingIds: [holds[0]!.id] })).bookings).toEqual([]);
    expect(await stockLedger(harness.sql, a.stockId)).toEqual({ total: 10, booked: 2, liveOrSold: 2 });
  });

  it('answers concurrent releases of the same holds with one release', async () => {
    const { a, b, orderId, holds } = await orderOnTwoStocks();
    const bookingIds = holds.map((hold) => hold.id);
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => client().expireBookings({ orderId, bookingIds })),
    );
    expect(answers.flatMap((answer) => answer.bookings)).toHaveLength(2);
    expect(await stockLedger(harness.sql, a.stockId)).toEqual({ total: 10, booked: 0, liveOrSold: 0 });
    expect(await stockLedger(harness.sql, b.stockId)).toEqual({ total: 10, booked: 0, liveOrSold: 0 });
  });
});

describe('DeleteOrderBookings', () => {
  it('sells every live hold of the order and answers a repeat with the same sale', async () => {
    const { a, b, orderId, holds } = await orderOnTwoStocks();
    // The answer lists the bookings in id order.
    const sold = holds.map((hold) => [hold.id, SOLD]).sort();
    const { bookings } = await client().deleteOrderBookings({ orderId });
    expect(bookings.map((booking) => [booking.id, booking.status])).toEqual(sold);
    const again = await client().deleteOrderBookings({ orderId });
    expect(again.bookings.map((booking) => [booking.id, booking.status])).toEqual(sold);
    // Sold seats stay booked.
    expect(await stockLedger(harness.sql, a.stockId)).toEqual({ total: 10, booked: 2, liveOrSold: 2 });
    expect(await stockLedger(harness.sql, b.stockId)).toEqual({ total: 10, booked: 3, liveOrSold: 3 });
  });

  it('sells nothing when one of the holds was released, with FAILED_PRECONDITION', async () => {
    const { orderId, holds } = await orderOnTwoStocks();
    await client().expireBookings({ orderId, bookingIds: [holds[1]!.id] });
    expect(await errorOf(client().deleteOrderBookings({ orderId }))).toBe(
      `FAILED_PRECONDITION: the order cannot be paid: hold ${holds[1]!.id} is released`,
    );
    const { bookings } = await client().getBookings({ orderId, includeExpired: true });
    expect(bookings.map((booking) => booking.status)).toEqual([HELD, RELEASED]);
  });

  it('answers NOT_FOUND for an order without bookings', async () => {
    expect(await statusOf(client().deleteOrderBookings({ orderId: randomUUID() }))).toBe('NOT_FOUND');
  });

  it('pay racing cancel on the same orders: one wins each time and the seats follow it', async () => {
    const orders = await Promise.all(Array.from({ length: 15 }, () => orderOnTwoStocks()));
    const outcomes = await Promise.all(
      orders.map(async ({ orderId, holds }) => {
        const [paid, cancelled] = await Promise.all([
          statusOf(client().deleteOrderBookings({ orderId })),
          client().expireBookings({ orderId, bookingIds: holds.map((hold) => hold.id) }),
        ]);
        return { paid, released: cancelled.bookings.length };
      }),
    );
    for (const [index, { a, b, orderId }] of orders.entries()) {
      const { paid, released } = outcomes[index]!;
      const { bookings } = await client().getBookings({ orderId, includeExpired: true });
      if (paid === 'OK') {
        expect(released).toBe(0);
        expect(bookings.map((booking) => booking.status)).toEqual([SOLD, SOLD]);
        expect((await stockLedger(harness.sql, a.stockId)).booked).toBe(2);
        expect((await stockLedger(harness.sql, b.stockId)).booked).toBe(3);
      } else {
        expect(paid).toBe('FAILED_PRECONDITION');
        expect(released).toBe(2);
        expect(bookings.map((booking) => booking.status)).toEqual([RELEASED, RELEASED]);
        expect((await stockLedger(harness.sql, a.stockId)).booked).toBe(0);
        expect((await stockLedger(harness.sql, b.stockId)).booked).toBe(0);
      }
    }
  });
});

describe('hold expiry and payment', () => {
  let shortHolds: BookingHarness;
  beforeAll(async () => {
    shortHolds = await startBookingHarness({ HOLD_TTL_SECONDS: '1' });
  });
  afterAll(() => shortHolds?.close());

  it('refuses to sell an order whose hold lapsed, even before the sweep ran', async () => {
    const shortClient = shortHolds.clients[0]!.client;
    const key = newStockKey();
    const { stock } = await shortHolds.asEvent.createStock({ ...key, seatsTotal: 5 });
    const { booking } = await shortClient.createBooking(holdRequest(key, { seats: 2 }));
    await sleep(1_100);
    expect(await errorOf(shortClient.deleteOrderBookings({ orderId: booking!.orderId }))).toMatch(
      /^FAILED_PRECONDITION: the order cannot be paid: hold .* expired at /,
    );
    // Not sold: the sweep may still release it.
    expect(await stockLedger(shortHolds.sql, stock!.id)).toMatchObject({ booked: 2 });
  });
});
