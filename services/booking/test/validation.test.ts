import { randomUUID } from 'node:crypto';
import type { BookingServiceDefinition, ReturnSoldSeatsRequest } from '@ticket/contracts/v1/booking/booking_service';
import type { Client } from 'nice-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BookingHarness, errorOf, holdRequest, newStockKey, startBookingHarness } from './harness.ts';

let harness: BookingHarness;
beforeAll(async () => {
  harness = await startBookingHarness();
});
afterAll(() => harness?.close());

type BookingClient = Client<typeof BookingServiceDefinition>;

const key = newStockKey();
const orderId = randomUUID();

/** A valid ReturnSoldSeats request, but for what `overrides` breaks. */
const seatReturn = (overrides: Partial<ReturnSoldSeatsRequest>): ReturnSoldSeatsRequest => ({
  orderId,
  idempotencyKey: randomUUID(),
  seats: [{ ...key, seats: 1 }],
  ...overrides,
});

/** Each bad request and the field its INVALID_ARGUMENT answer must name. */
const badRequests: [string, (client: BookingClient) => Promise<unknown>, string][] = [
  ['CreateStock', (c) => c.createStock({ ...key, eventId: 'not-a-uuid', seatsTotal: 5 }), 'event_id'],
  ['CreateStock', (c) => c.createStock({ ...key, ticketTypeId: '', seatsTotal: 5 }), 'ticket_type_id'],
  ['CreateStock', (c) => c.createStock({ ...key, seatsTotal: 0 }), 'seats_total'],
  ['CreateStock', (c) => c.createStock({ ...key, seatsTotal: -3 }), 'seats_total'],
  ['GetStocks', (c) => c.getStocks({ eventId: 'x' }), 'event_id'],
  ['GetStocks', (c) => c.getStocks({ eventId: key.eventId, ticketTypeId: 'x' }), 'ticket_type_id'],
  ['GetStock', (c) => c.getStock({ ...key, ticketTypeId: 'x' }), 'ticket_type_id'],
  ['DeleteStock', (c) => c.deleteStock({ ...key, eventId: '' }), 'event_id'],
  ['CreateBooking', (c) => c.createBooking(holdRequest(key, { idempotencyKey: '' })), 'idempotency_key'],
  ['CreateBooking', (c) => c.createBooking(holdRequest(key, { orderId: 'order-1' })), 'order_id'],
  ['CreateBooking', (c) => c.createBooking(holdRequest(key, { userId: '' })), 'user_id'],
  ['CreateBooking', (c) => c.createBooking(holdRequest(key, { seats: 0 })), 'seats'],
  ['CreateBooking', (c) => c.createBooking(holdRequest(key, { seats: 10_001 })), 'seats'],
  ['CreateBooking', (c) => c.createBooking(holdRequest({ ...key, eventId: 'x' })), 'event_id'],
  ['GetBookings', (c) => c.getBookings({ orderId: '', includeExpired: false }), 'order_id'],
  ['ExpireBookings', (c) => c.expireBookings({ orderId, bookingIds: [] }), 'booking_ids'],
  ['ExpireBookings', (c) => c.expireBookings({ orderId, bookingIds: [randomUUID(), 'x'] }), 'booking_ids[1]'],
  ['ExpireBookings', (c) => c.expireBookings({ orderId: 'x', bookingIds: [randomUUID()] }), 'order_id'],
  ['DeleteOrderBookings', (c) => c.deleteOrderBookings({ orderId: 'x' }), 'order_id'],
  ['ReturnSoldSeats', (c) => c.returnSoldSeats(seatReturn({ orderId: 'x' })), 'order_id'],
  ['ReturnSoldSeats', (c) => c.returnSoldSeats(seatReturn({ idempotencyKey: '' })), 'idempotency_key'],
  ['ReturnSoldSeats', (c) => c.returnSoldSeats(seatReturn({ seats: [] })), 'seats'],
  ['ReturnSoldSeats', (c) => c.returnSoldSeats(seatReturn({ seats: [{ ...key, seats: 0 }] })), 'seats[0].seats'],
  ['ReturnSoldSeats', (c) => c.returnSoldSeats(seatReturn({ seats: [{ ...key, seats: 10_001 }] })), 'seats[0].seats'],
  [
    'ReturnSoldSeats',
    (c) => c.returnSoldSeats(seatReturn({ seats: [{ ...key, eventId: 'x', seats: 1 }] })),
    'seats[0].event_id',
  ],
  [
    'ReturnSoldSeats',
    (c) =>
      c.returnSoldSeats(
        seatReturn({
          seats: [
            { ...key, seats: 1 },
            { ...key, seats: 2 },
          ],
        }),
      ),
    'seats[1].ticket_type_id',
  ],
];

/** Each RPC called as the service it is for: stocks are event's, holds checkout's. */
const callerOf = (rpc: string): BookingClient => (/Stocks?$/.test(rpc) ? harness.asEvent : harness.clients[0]!.client);

describe('bad input', () => {
  it.each(badRequests)('%s names %s', async (rpc, call, field) => {
    const answer = await errorOf(call(callerOf(rpc)));
    expect(answer).toMatch(/^INVALID_ARGUMENT: /);
    expect(answer).toContain(field);
  });

  it('changes nothing when it refuses', async () => {
    const [row] = await harness.sql<{ n: number }[]>`
      select (select count(*) from booking.stocks) + (select count(*) from booking.bookings)
        + (select count(*) from booking.seat_returns) as n`;
    expect(Number(row!.n)).toBe(0);
  });
});
