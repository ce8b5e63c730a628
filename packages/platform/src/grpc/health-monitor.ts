import { setTimeout as sleep } from 'node:timers/promises';
import type { CommonConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { GrpcHealth } from './health.ts';

/** One thing the service cannot serve without, asked once per check. */
export interface DependencyCheck {
  /** Named in the log line that reports a change (`database`, `broker`, `consumer`). */
  name: string;
  /** True when reachable. A throw, or no answer within the check timeout, counts as unreachable. */
  reachable(): Promise<boolean> | boolean;
  /** Releases what the check holds (a connection of its own); called once by `stop()`. */
  close?(): Promise<void>;
}

export interface HealthMonitorOptions {
  health: GrpcHealth;
  dependencies: DependencyCheck[];
  /**
   * HEALTH_CHECK_INTERVAL_MS: time between the end of one check and the start of the next;
   * HEALTH_CHECK_TIMEOUT_MS: longest wait for one dependency's answer (a hung connection reads as down).
   */
  config: Pick<CommonConfig, 'HEALTH_CHECK_INTERVAL_MS' | 'HEALTH_CHECK_TIMEOUT_MS'>;
  logger: Logger;
}

export interface HealthMonitor {
  /** Checks now, then every `intervalMs`, until `stop()`. */
  start(): void;
  /** Runs one check now, sets the status and returns whether every dependency was reachable. */
  check(): Promise<boolean>;
  /** Ends the loop (the server owns the status from here: it drains) and closes the checks. */
  stop(): Promise<void>;
}

/**
 * Keeps grpc.health.v1 readiness honest: NOT_SERVING (the whole server and every added service) while any of the
 * dependencies is unreachable, SERVING again at the first check that finds them all back, so within one interval
 * plus one timeout of their return and without a restart. Liveness (LIVENESS_SERVICE) is not touched: a process
 * waiting for its database is alive and must not be restarted for it.
 *
 * Readiness is NOT_SERVING from creation until the first check has passed, so nothing is routed to a service that
 * has not yet seen its dependencies; until then the checks run every 100 ms. Each check is bounded by `timeoutMs` and the checks run in parallel, so one
 * check takes at most `timeoutMs` whatever hangs.
 */
/** Time between checks until the first one passes. */
const STARTUP_INTERVAL_MS = 100;

export function createHealthMonitor(options: HealthMonitorOptions): HealthMonitor {
  const { health, dependencies, logger } = options;
  const intervalMs = options.config.HEALTH_CHECK_INTERVAL_MS;
  const timeoutMs = options.config.HEALTH_CHECK_TIMEOUT_MS;
  const stopped = new AbortController();
  let last: string | undefined;
  let loop: Promise<void> | undefined;
  health.setNotServing();

  async function check(): Promise<boolean> {
    const results = await Promise.all(
      dependencies.map(async (dependency) => [dependency.name, await withTimeout(dependency, timeoutMs)] as const),
    );
    const facts = Object.fromEntries(results);
    const healthy = results.every(([, reachable]) => reachable);
    const summary = JSON.stringify(facts);
    if (summary !== last) {
      last = summary;
      if (healthy) logger.info(facts, 'health: SERVING');
      else logger.warn(facts, 'health: NOT_SERVING');
    }
    if (stopped.signal.aborted) return healthy; // the server is shutting down and owns the status now
    if (healthy) health.setServing();
    else health.setNotServing();
    return healthy;
  }

  async function run(): Promise<void> {
    let servedYet = false;
    while (!stopped.signal.aborted) {
      const healthy = await check().catch((error: unknown) => {
        logger.error({ err: error }, 'health check failed');
        return false;
      });
      servedYet ||= healthy;
      // Until the first check passes (a starting process waiting for its consumer group, say), check often: the
      // service then serves as soon as it can, not up to an interval later. After that, a dependency that went away
      // is asked only every interval.
      const pauseMs = servedYet ? intervalMs : Math.min(intervalMs, STARTUP_INTERVAL_MS);
      await sleep(pauseMs, undefined, { signal: stopped.signal }).catch(() => {});
    }
  }

  return {
    start() {
      loop ??= run();
    },
    check,
    async stop() {
      if (stopped.signal.aborted) return;
      stopped.abort();
      await loop;
      await Promise.all(dependencies.map((dependency) => dependency.close?.().catch(() => {})));
    },
  };
}

/** False when the dependency has not answered true within `ms`, or threw. */
async function withTimeout(dependency: DependencyCheck, ms: number): Promise<boolean> {
  const timer = new AbortController();
  const answer = Promise.resolve()
    .then(() => dependency.reachable())
    .catch(() => false);
  try {
    return await Promise.race([answer, sleep(ms, false, { signal: timer.signal }).catch(() => false)]);
  } finally {
    timer.abort();
  }
}
