import type { Database, Logger } from '@ticket/platform';
import type { EventConfig } from '../config.ts';

/** A stock in booking is named by its event and ticket type. */
export interface StockKey {
  eventId: string;
  ticketTypeId: string;
}

/**
 * What the event service needs from booking. Both calls are safe to repeat: a repeated create finds the
 * stock already there, a repeated delete finds it already gone, and both count that as done. A failure is
 * a DomainError: `invalid_argument` when booking refused the arguments, `unavailable` for everything else.
 */
export interface StockGateway {
  /** Resolves once the stock exists, created now or by an earlier attempt. */
  ensureStock(key: StockKey, seats: number): Promise<void>;
  /** Resolves once the stock does not exist, deleted now or earlier. */
  removeStock(key: StockKey): Promise<void>;
}

/** What the use cases need, built once by the composition root. */
export interface EventContext {
  db: Database<Record<string, unknown>>;
  config: Pick<EventConfig, 'PENDING_EVENT_TIMEOUT_SECONDS'>;
  logger: Logger;
  stocks: StockGateway;
}
