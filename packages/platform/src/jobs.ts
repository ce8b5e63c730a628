import { type ScheduledTask, schedule } from 'node-cron';
import type { Logger } from './logger.ts';

/**
 * Runs `run` on a node-cron schedule (six fields, with seconds). A run still going when the next is due is skipped,
 * not doubled; a failed run is logged and the next one tries again. `run` returns counts of what it did, logged
 * when any is above zero.
 */
export function scheduleJob(
  name: string,
  cronExpression: string,
  run: () => Promise<Record<string, number>>,
  logger: Logger,
): ScheduledTask {
  return schedule(
    cronExpression,
    async () => {
      try {
        const done = await run();
        if (Object.values(done).some((count) => count > 0)) logger.info({ job: name, ...done }, 'job did work');
      } catch (error) {
        logger.error({ err: error, job: name }, 'job failed; the next run retries');
      }
    },
    { name, noOverlap: true },
  );
}
