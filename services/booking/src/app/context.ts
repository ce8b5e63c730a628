import type { Database, Logger } from '@ticket/platform';
import type { BookingConfig } from '../config.ts';

/** What the use cases need, built once by the composition root. */
export interface BookingContext {
  db: Database<Record<string, unknown>>;
  config: Pick<BookingConfig, 'HOLD_TTL_SECONDS' | 'EXPIRY_BATCH_SIZE' | 'HOLD_BATCH_MAX' | 'BOOKING_EVENTS_TOPIC'>;
  logger: Logger;
  /** Called after a transaction that wrote events commits, so the outbox relay publishes them now. */
  eventsCommitted(): void;
}
