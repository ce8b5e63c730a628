import { describe, expect, it, vi } from 'vitest';
import type { GrpcHealth } from '../src/grpc/health.ts';
import { createHealthMonitor } from '../src/grpc/health-monitor.ts';
import { createLogger } from '../src/logger.ts';

const logger = createLogger({ name: 'health-monitor-test', level: 'silent' });

/** Readiness as the monitor last set it, and a dependency that answers as the test says. */
function monitored(intervalMs: number) {
  const readiness: string[] = [];
  const health = {
    setServing: () => readiness.push('SERVING'),
    setNotServing: () => readiness.push('NOT_SERVING'),
  } as unknown as GrpcHealth;
  const dependency = { up: false, asked: 0 };
  const monitor = createHealthMonitor({
    health,
    dependencies: [
      {
        name: 'consumer',
        reachable: () => {
          dependency.asked += 1;
          return dependency.up;
        },
      },
    ],
    config: { HEALTH_CHECK_INTERVAL_MS: intervalMs, HEALTH_CHECK_TIMEOUT_MS: 1_000 },
    logger,
  });
  return { monitor, readiness, dependency };
}

describe('the health monitor', () => {
  it('checks often until the first check passes, then only every interval', async () => {
    const { monitor, readiness, dependency } = monitored(60_000);
    monitor.start();
    try {
      await vi.waitFor(() => expect(dependency.asked).toBeGreaterThanOrEqual(3), { timeout: 10_000 });
      expect(readiness.at(-1)).toBe('NOT_SERVING');

      dependency.up = true;
      await vi.waitFor(() => expect(readiness.at(-1)).toBe('SERVING'), { timeout: 10_000 });

      // Serving, it waits the interval (a minute) before asking again: none in the next moments, however fast.
      const askedOnceServing = dependency.asked;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(dependency.asked).toBe(askedOnceServing);
    } finally {
      await monitor.stop();
    }
  });
});
