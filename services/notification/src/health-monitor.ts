import { setTimeout as sleep } from 'node:timers/promises';
import { type Database, type GrpcHealth, isDatabaseReachable, type Kafka, type Logger } from '@ticket/platform';

export interface HealthMonitorOptions {
  health: GrpcHealth;
  db: Database<Record<string, unknown>>;
  /** A client that does not retry, so an unreachable broker is reported within one check. */
  kafka: Kafka;
  /** Whether the order-events consumer is in its group (false after a crash until it rejoins). */
  consumerRunning: () => boolean;
  intervalMs: number;
  logger: Logger;
}

export interface HealthMonitor {
  start(): void;
  /** Runs one check now and returns whether everything was reachable (tests and start-up). */
  check(): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * Keeps grpc.health.v1 honest: NOT_SERVING while Postgres does not answer `select 1`, the Kafka cluster does not
 * answer a metadata request, or the consumer is out of its group; SERVING again once all three are back. Each check
 * is bounded, so a hung connection reads as down rather than stalling the monitor.
 */
export function createHealthMonitor(options: HealthMonitorOptions): HealthMonitor {
  const { health, db, kafka, consumerRunning, intervalMs, logger } = options;
  const checkTimeoutMs = Math.max(1_000, Math.min(intervalMs, 5_000));
  const admin = kafka.admin();
  const stopped = new AbortController();
  let adminConnected = false;
  let last: string | undefined;
  let loop: Promise<void> | undefined;

  async function brokerReachable(): Promise<boolean> {
    try {
      if (!adminConnected) {
        await admin.connect();
        adminConnected = true;
      }
      await admin.describeCluster();
      return true;
    } catch {
      // Reconnect from scratch next time: a broker that came back may be a new process.
      adminConnected = false;
      await admin.disconnect().catch(() => {});
      return false;
    }
  }

  async function check(): Promise<boolean> {
    const [database, broker] = await Promise.all([
      withTimeout(isDatabaseReachable(db), checkTimeoutMs),
      withTimeout(brokerReachable(), checkTimeoutMs),
    ]);
    const consumer = consumerRunning();
    const healthy = database && broker && consumer;
    const summary = JSON.stringify({ database, broker, consumer });
    if (summary !== last) {
      last = summary;
      const facts = { database, broker, consumer };
      if (healthy) logger.info(facts, 'health: SERVING');
      else logger.warn(facts, 'health: NOT_SERVING');
    }
    if (stopped.signal.aborted) return healthy; // the server is shutting down and owns the status now
    if (healthy) health.setServing();
    else health.setNotServing();
    return healthy;
  }

  async function run(): Promise<void> {
    while (!stopped.signal.aborted) {
      await check().catch((error: unknown) => logger.error({ err: error }, 'health check failed'));
      await sleep(intervalMs, undefined, { signal: stopped.signal }).catch(() => {});
    }
  }

  return {
    start() {
      loop ??= run();
    },
    check,
    async stop() {
      stopped.abort();
      await loop;
      await admin.disconnect().catch(() => {});
    },
  };
}

/** False when `probe` has not answered true within `ms`. */
async function withTimeout(probe: Promise<boolean>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  try {
    return await Promise.race([probe, sleep(ms, false, { signal: timer.signal }).catch(() => false)]);
  } finally {
    timer.abort();
  }
}
