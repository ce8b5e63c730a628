import { randomUUID } from 'node:crypto';
import { BookingStatus } from '@ticket/contracts/v1/booking/booking_service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BookingHarness,
  errorOf,
  holdRequest,
  newStockKey,
  startBookingHarness,
  statusOf,
  stockLedger,
} from './harness.ts';

let harness: BookingHarness;
beforeAll(async () => {
  harness = await startBookingHarness();
  await harness.addReplica();
});
afterAll(() => harness?.close());

const client = (replica = 0) => harness.clients[replica]!.client;

async function newStock(seatsTotal: number) {
  const key = newStockKey();
  const { stock } = await harness.asEvent.createStock({ ...key, seatsTotal });
  return { key, stockId: stock!.id };
}

describe('holds', () => {
  it('holds seats until now plus the hold TTL', async () => {
    const { key, stockId } = await newStock(10);
    const before = Date.now();
    const { booking } = await client().createBooking(holdRequest(key, { seats: 3, userId: 'alice' }));
    expect(booking).toMatchObject({
      ...key,
      stockId,
      seats: 3,
      userId: 'alice',
      status: BookingStatus.BOOKING_STATUS_HELD,
    });
    // HOLD_TTL_SECONDS defaults to 15 minutes.
    const ttlMs = booking!.expiresAt!.getTime() - before;
    expect(ttlMs).toBeGreaterThan(14 * 60_000);
    expect(ttlMs).toBeLessThan(16 * 60_000);
    expect(await stockLedger(harness.sql, stockId)).toEqual({ total: 10, booked: 3, liveOrSold: 3 });
  });

  it('answers a retry with the first hold instead of holding twice', async () => {
    const { key, stockId } = await newStock(10);
    const request = holdRequest(key, { seats: 2 });
    const first = await client(0).createBooking(request);
    // Same key, through the other replica.
    const again = await client(1).createBooking(request);
    expect(again.booking?.id).toBe(first.booking?.id);
    // Same order and stock under a new key: the order already holds this stock.
    const sameOrder = await client().createBooking({ ...request, idempotencyKey: randomUUID() });
    expect(sameOrder.booking?.id).toBe(first.booking?.id);
    expect(await stockLedger(harness.sql, stockId)).toEqual({ total: 10, booked: 2, liveOrSold: 2 });
  });

  it('refuses a key reused for another hold with ALREADY_EXISTS', async () => {
    const { key } = await newStock(10);
    const request = holdRequest(key, { seats: 2 });
    await client().createBooking(request);
    expect(await errorOf(client().createBooking({ ...request, seats: 3 }))).toBe(
      `ALREADY_EXISTS: idempotency key ${request.idempotencyKey} was already used for another hold`,
    );
    expect(await statusOf(client().createBooking({ ...request, orderId: randomUUID() }))).toBe('ALREADY_EXISTS');
    expect(await errorOf(client().createBooking({ ...request, idempotencyKey: randomUUID(), seats: 1 }))).toBe(
      `ALREADY_EXISTS: order ${request.orderId} already holds 2 seats of this stock`,
    );
  });

  it('refuses with RESOURCE_EXHAUSTED and the seats left when not enough are left', async () => {
    const { key, stockId } = await newStock(5);
    await client().createBooking(holdRequest(key, { seats: 3 }));
    expect(await errorOf(client().createBooking(holdRequest(key, { seats: 3 })))).toBe(
      'RESOURCE_EXHAUSTED: not enough seats: asked for 3, 2 left',
    );
    // A smaller ask still fits.
    expect(await statusOf(client().createBooking(holdRequest(key, { seats: 2 })))).toBe('OK');
    expect(await stockLedger(harness.sql, stockId)).toEqual({ total: 5, booked: 5, liveOrSold: 5 });
  });

  it('answers NOT_FOUND for a stock that does not exist', async () => {
    expect(await statusOf(client().createBooking(holdRequest(newStockKey())))).toBe('NOT_FOUND');
  });

  it('never oversells: 300 concurrent holds of 1-3 seats on 100 seats, across two replicas', async () => {
    const { key, stockId } = await newStock(100);
    const requests = Array.from({ length: 300 }, (_, index) => holdRequest(key, { seats: 1 + (index % 3) }));
    const outcomes = await Promise.all(
      requests.map((request, index) =>
        client(index % 2)
          .createBooking(request)
          .then(
            ({ booking }) => ({ request, booking, status: 'OK' }),
            async (error) => ({ request, booking: undefined, status: await statusOf(Promise.reject(error)) }),
          ),
      ),
    );

    const held = outcomes.filter((outcome) => outcome.status === 'OK');
    const refused = outcomes.filter((outcome) => outcome.status !== 'OK');
    const seatsHeld = held.reduce((sum, outcome) => sum + outcome.booking!.seats, 0);
    expect(seatsHeld).toBeLessThanOrEqual(100);
    expect(new Set(refused.map((outcome) => outcome.status))).toEqual(new Set(['RESOURCE_EXHAUSTED']));
    // First come, first served: a request was refused only when fewer seats were left than it asked,
    // and seats only ran out from there, so every refused ask is larger than what is left at the end.
    const left = 100 - seatsHeld;
    for (const outcome of refused) expect(outcome.request.seats).toBeGreaterThan(left);
    expect(left).toBeLessThan(3);
    expect(await stockLedger(harness.sql, stockId)).toEqual({ total: 100, booked: seatsHeld, liveOrSold: seatsHeld });
    // Each hold answers its own request.
    for (const { request, booking } of held)
      expect(booking).toMatchObject({ orderId: request.orderId, seats: request.seats });
  });

  it('holds each order once when the same requests race on both replicas', async () => {
    const { key, stockId } = await newStock(50);
    const requests = Array.from({ length: 20 }, () => holdRequest(key, { seats: 2 }));
    const calls = requests.flatMap((request) => [client(0).createBooking(request), client(1).createBooking(request)]);
    const answers = await Promise.all(calls);
    for (let index = 0; index < requests.length; index++) {
      expect(answers[2 * index]?.booking?.id).toBe(answers[2 * index + 1]?.booking?.id);
    }
    expect(await stockLedger(harness.sql, stockId)).toEqual({ total: 50, booked: 40, liveOrSold: 40 });
  });
});
