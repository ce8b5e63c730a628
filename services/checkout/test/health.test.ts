import { randomUUID } from 'node:crypto';
import { LIVENESS_SERVICE } from '@ticket/platform';
import { cutOffDatabase, healthStatus } from '@ticket/platform/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type CheckoutHarness, startCheckoutHarness } from './harness.ts';

const SERVICE = 'ticket.checkout.v1.CheckoutService';
// Far above one check (interval + timeout, 0.2 + 1 s here), so a slow machine cannot make it fail.
const RECOVERY = { timeout: 30_000, interval: 100 };
const FAST_CHECKS = { HEALTH_CHECK_INTERVAL_MS: '200', HEALTH_CHECK_TIMEOUT_MS: '1000' };

let h: CheckoutHarness;
let address: string;

beforeAll(async () => {
  h = await startCheckoutHarness({ checkout: FAST_CHECKS, booking: FAST_CHECKS });
  address = `127.0.0.1:${h.checkouts[0]?.port}`;
}, 180_000);
afterAll(() => h?.close(), 120_000);

describe('health', () => {
  it('is SERVING, for the server and the checkout service, once Postgres is reached', async () => {
    await vi.waitFor(async () => expect(await healthStatus(address)).toBe('SERVING'), RECOVERY);
    expect(await healthStatus(address, SERVICE)).toBe('SERVING');
    expect(await healthStatus(address, LIVENESS_SERVICE)).toBe('SERVING');
  });

  it('is NOT_SERVING while the database is unreachable and SERVING again once it is back, without a restart', async () => {
    await vi.waitFor(async () => expect(await healthStatus(address)).toBe('SERVING'), RECOVERY);
    // The test's own client connects now: postgres.js's first connection fetches array types, and that fetch failing
    // during the cut would be an unhandled rejection.
    await h.sql`select 1`;
    const outage = await cutOffDatabase(h.database);
    try {
      await vi.waitFor(async () => expect(await healthStatus(address, SERVICE)).toBe('NOT_SERVING'), RECOVERY);
      expect(await healthStatus(address)).toBe('NOT_SERVING');
      // Readiness only: the process is alive, and a liveness probe must not restart it for an outage.
      expect(await healthStatus(address, LIVENESS_SERVICE)).toBe('SERVING');
    } finally {
      await outage.restore();
    }
    await vi.waitFor(async () => expect(await healthStatus(address, SERVICE)).toBe('SERVING'), RECOVERY);
    expect(await healthStatus(address)).toBe('SERVING');
    // And it really serves again: an order goes through the database.
    const event = await h.createEvent([{ name: 'GA', priceMinor: 1_000, seats: 10 }]);
    const user = `user-${randomUUID()}`;
    const auth = await h.as(user);
    await h.checkout.addToCart({ userId: user, ticketTypeId: event.ticketTypes[0]!.id, quantity: 1 }, auth);
    const { order } = await h.checkout.placeOrder(
      { userId: user, idempotencyKey: randomUUID(), email: 'h@example.com' },
      auth,
    );
    expect(order?.id).toBeDefined();
  }, 120_000);
});
