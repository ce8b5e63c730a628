import type { Logger } from '@ticket/platform';
import { type ScheduledTask, schedule } from 'node-cron';
import type { BookingContext } from '../app/context.ts';
import { releaseLapsedHolds } from '../app/release-lapsed-holds.ts';

/** Runs the expiry sweep on its schedule; a run still going when the next is due is skipped, not doubled. */
export function scheduleHoldExpiry(context: BookingContext, cronExpression: string, logger: Logger): ScheduledTask {
  return schedule(
    cronExpression,
    async () => {
      try {
        const released = await releaseLapsedHolds(context);
        if (released > 0) logger.info({ released }, 'expired lapsed holds');
      } catch (error) {
        logger.error({ err: error }, 'hold expiry sweep failed; the next run retries');
      }
    },
    { name: 'expire-holds', noOverlap: true },
  );
}
