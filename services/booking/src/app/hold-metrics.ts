import { Counter, Histogram, type Registry } from 'prom-client';

/** What the group commit tells Prometheus after each batch. */
export interface HoldMetrics {
  batch(outcome: { requests: number; granted: number; refused: number }): void;
}

/**
 * Holds per group-commit transaction (`booking_hold_batch_requests`: how well concurrent CreateBooking calls share
 * one), and the requests answered with a new hold or a refusal for want of seats (`booking_holds_total{outcome}`),
 * whose rate is holds/s.
 */
export function createHoldMetrics(registry: Registry): HoldMetrics {
  const batchRequests = new Histogram({
    name: 'booking_hold_batch_requests',
    help: 'CreateBooking requests decided by one group-commit transaction',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [registry],
  });
  const holds = new Counter({
    name: 'booking_holds_total',
    help: 'CreateBooking requests decided, by outcome: a new hold (granted) or not enough seats (refused)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const granted = holds.labels({ outcome: 'granted' });
  const refused = holds.labels({ outcome: 'refused' });
  return {
    batch(outcome) {
      batchRequests.observe(outcome.requests);
      granted.inc(outcome.granted);
      refused.inc(outcome.refused);
    },
  };
}
