import { randomUUID } from 'node:crypto';
import type { ReturnSoldSeatsRequest, SeatReturn } from '@ticket/contracts/v1/booking/booking_service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BookingHarness,
  errorOf,
  holdRequest,
  newStockKey,
  type StockKey,
  startBookingHarness,
  statusOf,
  stockLedger,
} from './harness.ts';

// ReturnSoldSeats: a refund puts sold seats back on sale, once per idempotency key, never more than were sold.

let harness: BookingHarness;
beforeAll(async () => {
  harness = await startBookingHarness();
  // Two replicas on one database: the races below run through both.
  await harness.addReplica();
});
afterAll(() => harness?.close());

const client = (replica = 0) => harness.clients[replica]!.client;

interface TestStock {
  key: StockKey;
  stockId: string;
}

async function newStock(seatsTotal: number): Promise<TestStock> {
  const key = newStockKey();
  const { stock } = await harness.asEvent.createStock({ ...key, seatsTotal });
  return { key, stockId: stock!.id };
}

/** A paid order: `seats` of each stock held for one order, then sold. */
async function soldOrder(...lines: { stock: TestStock; seats: number }[]): Promise<string> {
  const orderId = randomUUID();
  for (const { stock, seats } of lines) await client().createBooking(holdRequest(stock.key, { orderId, seats }));
  await client().deleteOrderBookings({ orderId });
  return orderId;
}

const seatsOf = (stock: TestStock, seats: number): SeatReturn => ({ ...stock.key, seats });

const returnRequest = (
  orderId: string,
  seats: SeatReturn[],
  idempotencyKey = randomUUID(),
): ReturnSoldSeatsRequest => ({
  orderId,
  seats,
  idempotencyKey,
});

/** Seats returned per booking of the order, by ticket type: what GetBookings says. */
async function returnedSeats(orderId: string): Promise<Record<string, number>> {
  const { bookings } = await client().getBookings({ orderId, includeExpired: true });
  return Object.fromEntries(bookings.map((booking) => [booking.ticketTypeId, booking.seatsReturned]));
}

async function seatReturnRows(orderId: string): Promise<number> {
  const [row] = await harness.sql<{ n: number }[]>`
    select count(*)::int as n from booking.seat_returns where order_id = ${orderId}`;
  return row!.n;
}

describe('ReturnSoldSeats', () => {
  it('returns some seats, then the rest, and the stocks count them back', async () => {
    const [a, b] = [await newStock(10), await newStock(10)];
    const orderId = await soldOrder({ stock: a, seats: 3 }, { stock: b, seats: 2 });

    const partial = await client().returnSoldSeats(returnRequest(orderId, [seatsOf(a, 1)]));
    expect(partial.bookings.map((booking) => [booking.ticketTypeId, booking.seats, booking.seatsReturned])).toEqual(
      expect.arrayContaining([
        [a.key.ticketTypeId, 3, 1],
        [b.key.ticketTypeId, 2, 0],
      ]),
    );
    expect(partial.bookings).toHaveLength(2);
    expect(await stockLedger(harness.sql, a.stockId)).toEqual({ total: 10, booked: 2, liveOrSold: 2 });
    expect(await stockLedger(harness.sql, b.stockId)).toEqual({ total: 10, booked: 2, liveOrSold: 2 });

    const rest = await client().returnSoldSeats(returnRequest(orderId, [seatsOf(b, 2), seatsOf(a, 2)]));
    for (const booking of rest.bookings) expect(booking.seatsReturned).toBe(booking.seats);
    expect(await returnedSeats(orderId)).toEqual({ [a.key.ticketTypeId]: 3, [b.key.ticketTypeId]: 2 });
    expect(await stockLedger(harness.sql, a.stockId)).toEqual({ total: 10, booked: 0, liveOrSold: 0 });
    expect(await stockLedger(harness.sql, b.stockId)).toEqual({ total: 10, booked: 0, liveOrSold: 0 });

    // Nothing is left to return.
    expect(await errorOf(client().returnSoldSeats(returnRequest(orderId, [seatsOf(a, 1)])))).toBe(
      `FAILED_PRECONDITION: order ${orderId} has 0 sold seats of ticket type ${a.key.ticketTypeId} not yet returned; cannot return 1`,
    );
  });

  it('answers a repeat with the same key with the same bookings and changes nothing', async () => {
    const a = await newStock(10);
    const orderId = await soldOrder({ stock: a, seats: 4 });
    const request = returnRequest(orderId, [seatsOf(a, 3)]);

    const first = await client(0).returnSoldSeats(request);
    // Through the other replica too.
    const again = await client(1).returnSoldSeats(request);
    expect(again).toEqual(first);
    expect(first.bookings.map((booking) => booking.seatsReturned)).toEqual([3]);
    expect(await stockLedger(harness.sql, a.stockId)).toEqual({ total: 10, booked: 1, liveOrSold: 1 });
    expect(await seatReturnRows(orderId)).toBe(1);
  });

  it('takes the same seats named in another order as the same call', async () => {
    const [a, b] = [await newStock(10), await newStock(10)];
    const orderId = await soldOrder({ stock: a, seats: 2 }, { stock: b, seats: 2 });
    const idempotencyKey = randomUUID();
    await client().returnSoldSeats(returnRequest(orderId, [seatsOf(a, 1), seatsOf(b, 2)], idempotencyKey));
    expect(
      await statusOf(client().returnSoldSeats(returnRequest(orderId, [seatsOf(b, 2), seatsOf(a, 1)], idempotencyKey))),
    ).toBe('OK');
    expect(await stockLedger(harness.sql, a.stockId)).toMatchObject({ booked: 1, liveOrSold: 1 });
    expect(await stockLedger(harness.sql, b.stockId)).toMatchObject({ booked: 0, liveOrSold: 0 });
  });

  it('refuses the same key with other seats with ALREADY_EXISTS, changing nothing', async () => {
    const [a, b] = [await newStock(10), await newStock(10)];
    const orderId = await soldOrder({ stock: a, seats: 3 }, { stock: b, seats: 1 });
    const idempotencyKey = randomUUID();
    await client().returnSoldSeats(returnRequest(orderId, [seatsOf(a, 1)], idempotencyKey));

    for (const seats of [[seatsOf(a, 2)], [seatsOf(a, 1), seatsOf(b, 1)], [seatsOf(b, 1)]]) {
      expect(await errorOf(client().returnSoldSeats(returnRequest(orderId, seats, idempotencyKey)))).toBe(
        `ALREADY_EXISTS: idempotency_key ${idempotencyKey} was already used to return other seats of order ${orderId}`,
      );
    }
    expect(await returnedSeats(orderId)).toEqual({ [a.key.ticketTypeId]: 1, [b.key.ticketTypeId]: 0 });
    expect(await stockLedger(harness.sql, a.stockId)).toMatchObject({ booked: 2, liveOrSold: 2 });
    // The key is the order's own: another order may use it.
    const otherOrder = await soldOrder({ stock: b, seats: 1 });
    expect(await statusOf(client().returnSoldSeats(returnRequest(otherOrder, [seatsOf(b, 1)], idempotencyKey)))).toBe(
      'OK',
    );
  });

  it('answers NOT_FOUND for an unknown order, an unpaid one, or a ticket type the order did not buy', async () => {
    const [a, b] = [await newStock(10), await newStock(10)];
    const unknown = randomUUID();
    expect(await errorOf(client().returnSoldSeats(returnRequest(unknown, [seatsOf(a, 1)])))).toBe(
      `NOT_FOUND: sold booking of order ${unknown} for ticket type ${a.key.ticketTypeId} of event ${a.key.eventId} not found`,
    );

    // Held, not paid: nothing is sold yet.
    const unpaid = randomUUID();
    await client().createBooking(holdRequest(a.key, { orderId: unpaid, seats: 2 }));
    expect(await statusOf(client().returnSoldSeats(returnRequest(unpaid, [seatsOf(a, 1)])))).toBe('NOT_FOUND');
    expect(await stockLedger(harness.sql, a.stockId)).toMatchObject({ booked: 2, liveOrSold: 2 });

    // All or nothing: the seats of a, which the order did buy, stay sold.
    const paid = await soldOrder({ stock: a, seats: 2 });
    expect(await statusOf(client().returnSoldSeats(returnRequest(paid, [seatsOf(a, 1), seatsOf(b, 1)])))).toBe(
      'NOT_FOUND',
    );
    expect(await returnedSeats(paid)).toEqual({ [a.key.ticketTypeId]: 0 });
    expect(await stockLedger(harness.sql, a.stockId)).toMatchObject({ booked: 4, liveOrSold: 4 });
    expect(await seatReturnRows(paid)).toBe(0);
  });

  it('returns nothing when one ticket type asks for more than is left, with FAILED_PRECONDITION', async () => {
    const [a, b] = [await newStock(10), await newStock(10)];
    const orderId = await soldOrder({ stock: a, seats: 2 }, { stock: b, seats: 2 });
    expect(await errorOf(client().returnSoldSeats(returnRequest(orderId, [seatsOf(a, 2), seatsOf(b, 3)])))).toBe(
      `FAILED_PRECONDITION: order ${orderId} has 2 sold seats of ticket type ${b.key.ticketTypeId} not yet returned; cannot return 3`,
    );
    expect(await returnedSeats(orderId)).toEqual({ [a.key.ticketTypeId]: 0, [b.key.ticketTypeId]: 0 });
    expect(await stockLedger(harness.sql, a.stockId)).toMatchObject({ booked: 2, liveOrSold: 2 });
    // The refused key was not spent: the same key may still return what is there.
    expect(await seatReturnRows(orderId)).toBe(0);
  });

  it('puts the returned seats back on sale for a new hold', async () => {
    const a = await newStock(3);
    const orderId = await soldOrder({ stock: a, seats: 3 });
    expect(await statusOf(client().createBooking(holdRequest(a.key, { seats: 1 })))).toBe('RESOURCE_EXHAUSTED');

    await client().returnSoldSeats(returnRequest(orderId, [seatsOf(a, 2)]));
    expect(await statusOf(client().createBooking(holdRequest(a.key, { seats: 2 })))).toBe('OK');
    expect(await statusOf(client().createBooking(holdRequest(a.key, { seats: 1 })))).toBe('RESOURCE_EXHAUSTED');
    expect(await stockLedger(harness.sql, a.stockId)).toEqual({ total: 3, booked: 3, liveOrSold: 3 });
  });

  it('leaves a repeated sale of the order as it was: DeleteOrderBookings still answers SOLD, with the return', async () => {
    const a = await newStock(5);
    const orderId = await soldOrder({ stock: a, seats: 2 });
    await client().returnSoldSeats(returnRequest(orderId, [seatsOf(a, 1)]));
    const { bookings } = await client().deleteOrderBookings({ orderId });
    expect(bookings.map((booking) => booking.seatsReturned)).toEqual([1]);
    expect(await stockLedger(harness.sql, a.stockId)).toMatchObject({ booked: 1, liveOrSold: 1 });
  });
});

describe('ReturnSoldSeats under concurrency', () => {
  it('20 concurrent calls with the same key return the seats exactly once, all with the same answer', async () => {
    const [a, b] = [await newStock(20), await newStock(20)];
    const orderId = await soldOrder({ stock: a, seats: 5 }, { stock: b, seats: 4 });
    const request = returnRequest(orderId, [seatsOf(a, 3), seatsOf(b, 4)]);

    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, index) => client(index % 2).returnSoldSeats(request)),
    );
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(await returnedSeats(orderId)).toEqual({ [a.key.ticketTypeId]: 3, [b.key.ticketTypeId]: 4 });
    expect(await stockLedger(harness.sql, a.stockId)).toEqual({ total: 20, booked: 2, liveOrSold: 2 });
    expect(await stockLedger(harness.sql, b.stockId)).toEqual({ total: 20, booked: 0, liveOrSold: 0 });
    expect(await seatReturnRows(orderId)).toBe(1);
  });

  it('concurrent calls with different keys never return more than was sold', async () => {
    const a = await newStock(20);
    // Another order's seats on the same stock must stay booked whatever the race does.
    await soldOrder({ stock: a, seats: 4 });
    const orderId = await soldOrder({ stock: a, seats: 7 });

    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        statusOf(client(index % 2).returnSoldSeats(returnRequest(orderId, [seatsOf(a, 2)]))),
      ),
    );
    // 7 seats: three returns of 2 fit, the fourth would need 2 of the 1 left.
    expect(outcomes.filter((status) => status === 'OK')).toHaveLength(3);
    expect(outcomes.filter((status) => status === 'FAILED_PRECONDITION')).toHaveLength(17);
    expect(await returnedSeats(orderId)).toEqual({ [a.key.ticketTypeId]: 6 });
    expect(await stockLedger(harness.sql, a.stockId)).toEqual({ total: 20, booked: 5, liveOrSold: 5 });
    expect(await seatReturnRows(orderId)).toBe(3);
  });

  it('returns of several orders on the same stocks, racing new holds, keep every stock equal to its bookings', async () => {
    const [a, b] = [await newStock(30), await newStock(30)];
    const orders = await Promise.all(
      Array.from({ length: 6 }, () => soldOrder({ stock: a, seats: 3 }, { stock: b, seats: 2 })),
    );
    await Promise.all([
      // Each order returns in two calls, naming the stocks in opposite orders: lock order must not depend on it.
      ...orders.flatMap((orderId, index) => [
        client(index % 2).returnSoldSeats(returnRequest(orderId, [seatsOf(a, 1), seatsOf(b, 1)])),
        client((index + 1) % 2).returnSoldSeats(returnRequest(orderId, [seatsOf(b, 1), seatsOf(a, 2)])),
      ]),
      ...Array.from({ length: 10 }, (_, index) => client(index % 2).createBooking(holdRequest(a.key, { seats: 1 }))),
    ]);
    // a: 18 sold, all returned; 10 new holds. b: 12 sold, all returned.
    expect(await stockLedger(harness.sql, a.stockId)).toEqual({ total: 30, booked: 10, liveOrSold: 10 });
    expect(await stockLedger(harness.sql, b.stockId)).toEqual({ total: 30, booked: 0, liveOrSold: 0 });
  });
});
