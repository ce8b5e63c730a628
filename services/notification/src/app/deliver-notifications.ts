import { setTimeout as sleep } from 'node:timers/promises';
import { createAlarm, type Database, type Logger } from '@ticket/platform';
import { claimDueNotifications, markAllSent, markFailed, scheduleRetry } from '../db/notification-repository.ts';
import { describeFailure, type Sender } from '../delivery/sender.ts';
import { afterFailure, type Channel, type OutgoingMessage, type RetryPolicy } from '../domain/notification.ts';
import type { DeliveryMetrics } from './delivery-metrics.ts';

export interface DeliveryLoopOptions {
  db: Database<Record<string, unknown>>;
  logger: Logger;
  /** The sender of each channel; a channel without one (EMAIL with no SMTP configured) fails its deliveries. */
  senders: Partial<Record<Channel, Sender>>;
  policy: RetryPolicy;
  /** Deliveries in flight at once. */
  concurrency: number;
  /** How often to look for due rows when nothing woke the loop: retries falling due, rows of a crashed replica. */
  pollIntervalMs: number;
  /** How long a claim keeps a row from being claimed again (see claimDueNotifications). */
  claimTtlMs: number;
  /** How long stop() lets running deliveries finish before it cancels them. */
  stopGraceMs?: number;
  /** Told the outcome of every attempt (notification_deliveries_total). */
  metrics?: DeliveryMetrics;
}

export interface DeliveryLoop {
  start(): void;
  /** Look for due notifications now: call after committing new ones. */
  wake(): void;
  stop(): Promise<void>;
}

const MAX_BACKOFF_MS = 10_000;

/**
 * Sends PENDING notifications: claims due rows (oldest first, one order's in order), sends each through its
 * channel, and records SENT, a retry with exponential backoff, or FAILED. Up to `concurrency` deliveries run at once,
 * each finishing on its own, so one slow SMTP exchange delays nothing else. The loop wakes when told to (the consumer
 * committed new rows), when a delivery finishes (the order's next notification may now go), and every poll interval.
 *
 * Delivery is at least once: if the process dies after the SMTP server accepted a message but before SENT is
 * recorded, the claim lapses and the message is sent again, with the same Message-ID.
 */
export function createDeliveryLoop(options: DeliveryLoopOptions): DeliveryLoop {
  const { db, logger, senders, policy, concurrency, pollIntervalMs, claimTtlMs } = options;
  const stopGraceMs = options.stopGraceMs ?? 10_000;
  // A claim costs about as much for one row as for many (it looks through every due row to keep each order's in
  // order), so with a backlog one claim per finished delivery was the bottleneck (about 40 emails/s with a few
  // hundred PENDING rows). Claim once half the slots are free instead.
  const claimBatch = Math.max(1, Math.floor(concurrency / 2));
  const inFlight = new Set<Promise<void>>();
  const cancel = new AbortController();
  let running = false;
  let loop: Promise<void> | undefined;
  const alarm = createAlarm();
  const sentToRecord: { id: string; resolve: () => void }[] = [];
  let recordingSent = false;

  async function run(): Promise<void> {
    let failures = 0;
    while (running) {
      const room = concurrency - inFlight.size;
      if (room >= claimBatch) {
        let claimed: OutgoingMessage[];
        try {
          claimed = await claimDueNotifications(db, room, claimTtlMs);
          failures = 0;
        } catch (error) {
          failures += 1;
          const delay = Math.min(MAX_BACKOFF_MS, 200 * 2 ** Math.min(failures, 10));
          logger.warn({ err: error, failures, retryInMs: delay }, 'delivery loop: claiming failed; will retry');
          await alarm.pause(delay);
          continue;
        }
        for (const message of claimed) track(deliver(message));
        if (claimed.length === room) continue; // maybe more are due: claim again once deliveries free slots
      }
      // Nothing more due, or fewer slots free than a claim's worth: each finished delivery wakes the loop.
      await alarm.pause(pollIntervalMs);
    }
  }

  function track(delivery: Promise<void>): void {
    inFlight.add(delivery);
    void delivery.finally(() => {
      inFlight.delete(delivery);
      alarm.wake();
    });
  }

  async function deliver(message: OutgoingMessage): Promise<void> {
    const log = { notificationId: message.id, orderId: message.orderId, kind: message.kind, attempt: message.attempts };
    try {
      const sender = senders[message.channel];
      if (!sender) throw new Error(`no sender for the ${message.channel} channel (is SMTP configured?)`);
      await sender.send(message, cancel.signal);
    } catch (error) {
      if (cancel.signal.aborted) {
        // Cut short by the shutdown, not refused by the server: leave the claim to lapse; it is tried again later.
        logger.warn(log, 'delivery cancelled by shutdown; it will be retried');
        return;
      }
      const next = afterFailure(message.attempts, describeFailure(error), policy);
      options.metrics?.attempted(next.status === 'FAILED' ? 'failed' : 'retrying', message.channel);
      if (next.status === 'FAILED') {
        logger.error({ ...log, error: next.error }, 'notification failed; giving up');
        await recordOutcome(() => markFailed(db, message.id, next.error), log);
      } else {
        logger.warn(
          { ...log, error: next.error, retryInMs: next.retryInMs },
          'notification delivery failed; will retry',
        );
        await recordOutcome(() => scheduleRetry(db, message.id, next.retryInMs, next.error), log);
      }
      return;
    }
    logger.debug(log, 'notification sent');
    options.metrics?.attempted('sent', message.channel);
    await recordSent(message.id);
  }

  /**
   * Records SENT, together with the other deliveries that finished meanwhile: one UPDATE for all that ended while the
   * previous one ran, not one per email (with many deliveries in flight those UPDATEs were a good part of the work).
   * Resolves once this one's is committed, so stop() still waits for it.
   */
  function recordSent(id: string): Promise<void> {
    return new Promise((resolve) => {
      sentToRecord.push({ id, resolve });
      if (!recordingSent) void recordAllSent();
    });
  }

  async function recordAllSent(): Promise<void> {
    recordingSent = true;
    while (sentToRecord.length > 0) {
      const batch = sentToRecord.splice(0);
      const ids = batch.map((entry) => entry.id);
      await recordOutcome(() => markAllSent(db, ids), { notificationIds: ids });
      for (const entry of batch) entry.resolve();
    }
    recordingSent = false;
  }

  /**
   * Records a delivery's outcome, retrying while Postgres is unreachable: a lost SENT update means the message is sent
   * again once the claim lapses. Gives up only when the loop is cancelled on shutdown.
   */
  async function recordOutcome(update: () => Promise<void>, log: Record<string, unknown>): Promise<void> {
    for (let failures = 1; ; failures += 1) {
      try {
        await update();
        return;
      } catch (error) {
        if (cancel.signal.aborted) {
          logger.error({ ...log, err: error }, 'delivery outcome not recorded before shutdown; the claim will lapse');
          return;
        }
        const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(failures, 10));
        logger.warn({ ...log, err: error, retryInMs: delay }, 'recording a delivery outcome failed; will retry');
        await sleep(delay, undefined, { signal: cancel.signal }).catch(() => {});
      }
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    wake: alarm.wake,
    async stop() {
      running = false;
      alarm.wake();
      await loop;
      // Let running deliveries finish and record their outcome; past the grace period, cancel them (their claims
      // lapse and they are retried later, possibly as a second copy with the same Message-ID).
      const settled = Promise.allSettled([...inFlight]).then(() => true);
      const grace = new AbortController();
      const finished = await Promise.race([
        settled,
        sleep(stopGraceMs, false, { signal: grace.signal }).catch(() => false),
      ]);
      grace.abort();
      if (!finished) logger.warn({ inFlight: inFlight.size }, 'cancelling deliveries still running at shutdown');
      cancel.abort();
      await Promise.allSettled([...inFlight]);
    },
  };
}
