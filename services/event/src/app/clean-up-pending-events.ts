import { randomUUID } from 'node:crypto';
import { claimStaleEvents, deleteOwnedEvent } from '../db/event-repository.ts';
import type { EventContext } from './context.ts';
import { type Claim, removeStocks } from './stock-calls.ts';

/** Stale events claimed per statement. */
const BATCH_SIZE = 100;

export interface CleanupResult {
  /** Events whose stocks and rows are gone. */
  removed: number;
  /** Events left ABANDONED because booking failed; a later run retries them. */
  failed: number;
}

/**
 * Finishes the rollback of CreateEvent calls that nobody completed: events PENDING (or ABANDONED by an
 * earlier run that failed) with no progress for PENDING_EVENT_TIMEOUT_SECONDS. Each is first marked
 * ABANDONED by this run in one conditional statement, so a retried CreateEvent can no longer resume it
 * (it answers UNAVAILABLE until the event is gone, after which the key creates a fresh event), and
 * several replicas never take the same event. Then its stocks are deleted in booking, then the event.
 */
export async function cleanUpPendingEvents(context: EventContext): Promise<CleanupResult> {
  const claim: Claim = { id: randomUUID(), status: 'ABANDONED' };
  const result: CleanupResult = { removed: 0, failed: 0 };
  for (;;) {
    const batch = await claimStaleEvents(
      context.db,
      claim.id,
      context.config.PENDING_EVENT_TIMEOUT_SECONDS,
      BATCH_SIZE,
    );
    for (const event of batch) {
      const removed = await removeStocks(context, event, claim);
      if (removed.ok && (await deleteOwnedEvent(context.db, event.id, claim.id, 'ABANDONED'))) {
        result.removed += 1;
      } else {
        // Still ABANDONED, with a fresh updated_at: the run after the timeout tries again.
        result.failed += 1;
      }
    }
    // Events that failed here are not stale any more, so the loop cannot take them twice.
    if (batch.length < BATCH_SIZE) return result;
  }
}
