import { LIVENESS_SERVICE } from '@ticket/platform';
import { cutOffDatabase, healthStatus } from '@ticket/platform/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type BookingHarness, holdRequest, newStockKey, startBookingHarness } from './harness.ts';

const SERVICE = 'ticket.booking.v1.BookingService';
// Far above one check (interval + timeout, 0.2 + 1 s here), so a slow machine cannot make it fail.
const RECOVERY = { timeout: 30_000, interval: 100 };

let harness: BookingHarness;
let address: string;

beforeAll(async () => {
  harness = await startBookingHarness({ HEALTH_CHECK_INTERVAL_MS: '200', HEALTH_CHECK_TIMEOUT_MS: '1000' });
  address = `127.0.0.1:${harness.services[0]?.port}`;
}, 120_000);
afterAll(() => harness?.close(), 60_000);

describe('health', () => {
  it('is SERVING, for the server and the booking service, once Postgres is reached', async () => {
    await vi.waitFor(async () => expect(await healthStatus(address)).toBe('SERVING'), RECOVERY);
    expect(await healthStatus(address, SERVICE)).toBe('SERVING');
    expect(await healthStatus(address, LIVENESS_SERVICE)).toBe('SERVING');
  });

  it('is NOT_SERVING while its database is unreachable and SERVING again once it is back, without a restart', async () => {
    await vi.waitFor(async () => expect(await healthStatus(address)).toBe('SERVING'), RECOVERY);
    const outage = await cutOffDatabase(harness.database);
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
    // And it really serves again: a write reaches the database.
    const key = newStockKey();
    await harness.asEvent.createStock({ ...key, seatsTotal: 5 });
    await harness.clients[0]?.client.createBooking(holdRequest(key));
  }, 90_000);
});
