import { DomainError, type Logger } from '@ticket/platform';
import { renewClaim, type UnfinishedEvent } from '../db/event-repository.ts';
import type { EventStatus } from '../domain/event.ts';
import type { EventContext } from './context.ts';

/** Booking calls in flight at once for one event: an event with many ticket types need not wait for each in turn. */
const STOCK_CALLS_AT_ONCE = 4;

/** Who owns an unfinished event: a CreateEvent call (PENDING) or a cleanup run (ABANDONED). */
export interface Claim {
  id: string;
  status: Extract<EventStatus, 'PENDING' | 'ABANDONED'>;
}

/** The owner lost the event to someone else (its lease lapsed); it must not touch the event's stocks any more. */
export const LOST_CLAIM = 'lost-claim';

export type BatchOutcome = { ok: true } | { ok: false; failure: DomainError | typeof LOST_CLAIM };

/**
 * Calls booking for each ticket type of the event, a few at a time. Before each batch the owner renews its lease
 * (`updated_at`): nobody else can take the event for PENDING_EVENT_TIMEOUT_SECONDS after that, and a booking call
 * lasts at most BOOKING_DEADLINE_MS (at most half of it, checked at start-up), so no call of a former owner can
 * still land once another owner has taken over.
 *
 * `keepGoing`: go on after a failed batch (compensation removes whatever it can) instead of stopping at once.
 */
export async function callForEachTicketType(
  context: EventContext,
  event: UnfinishedEvent,
  claim: Claim,
  call: (ticketType: UnfinishedEvent['ticketTypes'][number]) => Promise<void>,
  { keepGoing }: { keepGoing: boolean },
): Promise<BatchOutcome> {
  let firstFailure: DomainError | undefined;
  for (let start = 0; start < event.ticketTypes.length; start += STOCK_CALLS_AT_ONCE) {
    if (!(await renewClaim(context.db, event.id, claim.id, claim.status))) return { ok: false, failure: LOST_CLAIM };
    const batch = event.ticketTypes.slice(start, start + STOCK_CALLS_AT_ONCE);
    const results = await Promise.allSettled(batch.map((ticketType) => call(ticketType)));
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) {
      firstFailure ??= asDomainError(failed.reason, context.logger);
      if (!keepGoing) break;
    }
  }
  return firstFailure ? { ok: false, failure: firstFailure } : { ok: true };
}

/** The gateway only throws DomainErrors; anything else is a bug, logged, and treated like booking failing. */
function asDomainError(error: unknown, logger: Logger): DomainError {
  if (error instanceof DomainError) return error;
  logger.error({ err: error }, 'unexpected error calling booking');
  return new DomainError('unavailable', 'booking call failed');
}

/** Deletes the stock of every ticket type of the event (compensation and cleanup alike). */
export function removeStocks(context: EventContext, event: UnfinishedEvent, claim: Claim): Promise<BatchOutcome> {
  return callForEachTicketType(
    context,
    event,
    claim,
    (ticketType) => context.stocks.removeStock({ eventId: event.id, ticketTypeId: ticketType.id }),
    { keepGoing: true },
  );
}
