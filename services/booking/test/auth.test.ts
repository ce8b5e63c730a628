import { randomUUID } from 'node:crypto';
import { BookingServiceDefinition } from '@ticket/contracts/v1/booking/booking_service';
import { createServiceTokenSource, Role, signUserToken } from '@ticket/platform';
import { asService, bearer } from '@ticket/platform/testing';
import type { Metadata } from 'nice-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BookingHarness,
  errorOf,
  holdRequest,
  newStockKey,
  SERVICE_AUTH_SECRET,
  startBookingHarness,
  statusOf,
} from './harness.ts';

// Booking is internal: only event's and checkout's service tokens get in, each only to its own RPCs.

let harness: BookingHarness;
beforeAll(async () => {
  harness = await startBookingHarness();
});
afterAll(() => harness?.close());

type Rpc = keyof typeof BookingServiceDefinition.methods;
type CallOptions = { metadata: Metadata };

/** Which services may call each RPC: the policy as this test states it, independently of the code. */
const ALLOWED: Record<Rpc, readonly string[]> = {
  createStock: ['event'],
  deleteStock: ['event'],
  getStocks: ['event', 'checkout'],
  getStock: ['event', 'checkout'],
  createBooking: ['checkout'],
  getBookings: ['checkout'],
  expireBookings: ['checkout'],
  deleteOrderBookings: ['checkout'],
  returnSoldSeats: ['checkout'],
};
const RPCS = Object.keys(BookingServiceDefinition.methods) as Rpc[];

/** Calls `rpc` with an empty request: a caller who gets past auth is told INVALID_ARGUMENT, nothing happens. */
function callEmpty(rpc: Rpc, options?: CallOptions): Promise<unknown> {
  const method = harness.anonymous[rpc] as (request: object, options?: CallOptions) => Promise<unknown>;
  return method.call(harness.anonymous, {}, options);
}

/** A service token that booking must refuse: the right shape, but something else wrong with it. */
const serviceToken = (options: { secret?: string; service?: string; audience?: string; ttlSeconds?: number }) =>
  createServiceTokenSource({
    secret: options.secret ?? SERVICE_AUTH_SECRET,
    service: options.service ?? 'checkout',
    audience: options.audience ?? 'booking',
    ttlSeconds: options.ttlSeconds ?? 60,
  })();

describe('who may call booking', () => {
  it('covers every RPC in this table', () => {
    expect(RPCS.sort()).toEqual(Object.keys(ALLOWED).sort());
  });

  it.each(RPCS)('%s: UNAUTHENTICATED without a token', async (rpc) => {
    expect(await errorOf(callEmpty(rpc))).toMatch(/^UNAUTHENTICATED: missing authorization/);
  });

  it.each(RPCS)(
    '%s: only the services it is for get past auth; any other service is PERMISSION_DENIED',
    async (rpc) => {
      for (const service of ['event', 'checkout', 'notification']) {
        const status = await statusOf(callEmpty(rpc, await asService(SERVICE_AUTH_SECRET, service)));
        expect(status, service).toBe(ALLOWED[rpc].includes(service) ? 'INVALID_ARGUMENT' : 'PERMISSION_DENIED');
      }
    },
  );

  it('refuses users, even an admin, even with a token signed by the services’ own key', async () => {
    const userSecret = 'a-users-token-secret-that-is-long-enough-here';
    const tokens = [
      await signUserToken(userSecret, 'buyer-1', 60),
      await signUserToken(userSecret, 'organizer-1', 60, { roles: [Role.organizer] }),
      await signUserToken(userSecret, 'admin-1', 60, { roles: [Role.admin] }),
      // The services' key but a user's claims: no service issuer, no booking audience.
      await signUserToken(SERVICE_AUTH_SECRET, 'admin-1', 60, { roles: [Role.admin] }),
      // Even a user token that names booking as its audience is no service token.
      await signUserToken(SERVICE_AUTH_SECRET, 'checkout', 60, { audience: 'booking' }),
    ];
    for (const token of tokens) {
      expect(await statusOf(callEmpty('deleteOrderBookings', bearer(token)))).toBe('UNAUTHENTICATED');
    }
  });

  it('refuses a service token that expired, is meant for another service, or is signed with another key', async () => {
    const refused = [
      ['expired', await serviceToken({ ttlSeconds: -60 }), /token expired/],
      ['for checkout, not booking', await serviceToken({ service: 'event', audience: 'checkout' }), /\(aud\)/],
      ['another key', await serviceToken({ secret: 'not-the-services-key-but-long-enough-anyway' }), /invalid token/],
      ['not a JWT', 'not.a.jwt', /invalid token/],
    ] as const;
    for (const [what, token, message] of refused) {
      const answer = await errorOf(callEmpty('createBooking', bearer(token)));
      expect(answer, what).toMatch(/^UNAUTHENTICATED: /);
      expect(answer, what).toMatch(message);
    }
  });

  it('lets checkout hold seats of the stock event created, and not the other way round', async () => {
    const key = newStockKey();
    const asCheckout = await asService(SERVICE_AUTH_SECRET, 'checkout');
    const asEvent = await asService(SERVICE_AUTH_SECRET, 'event');
    expect(await statusOf(harness.anonymous.createStock({ ...key, seatsTotal: 5 }, asCheckout))).toBe(
      'PERMISSION_DENIED',
    );
    expect(await statusOf(harness.anonymous.createStock({ ...key, seatsTotal: 5 }, asEvent))).toBe('OK');
    expect(await statusOf(harness.anonymous.createBooking(holdRequest(key), asEvent))).toBe('PERMISSION_DENIED');
    expect(await statusOf(harness.anonymous.createBooking(holdRequest(key), asCheckout))).toBe('OK');
    // Event's token cannot sell an order's seats either.
    expect(await statusOf(harness.anonymous.deleteOrderBookings({ orderId: randomUUID() }, asEvent))).toBe(
      'PERMISSION_DENIED',
    );
  });
});
