import type { Logger } from '../logger.ts';

/** Something to close on the way out: the gRPC server (`() => server.shutdown()`), a consumer, a pool. */
export interface Closer {
  name: string;
  close(): Promise<void> | void;
}

export interface ShutdownSignalOptions {
  /** Budget for all closers together; past it the process exits 1. Default 25 s (under Kubernetes' 30 s). */
  timeoutMs?: number;
  /** Default SIGTERM and SIGINT. */
  signals?: readonly NodeJS.Signals[];
}

/**
 * Closes each in the order given, waiting for one before the next: list them in reverse start order (gRPC server
 * first, so no new work arrives; then consumers, jobs, Kafka, the database pool). A failing closer is logged and
 * the rest still run. Resolves true when every closer succeeded.
 */
export async function closeInOrder(closers: readonly Closer[], logger: Logger): Promise<boolean> {
  let allClosed = true;
  for (const { name, close } of closers) {
    const started = performance.now();
    try {
      await close();
      logger.info({ closer: name, durationMs: Math.round(performance.now() - started) }, 'closed');
    } catch (error) {
      allClosed = false;
      logger.error({ err: error, closer: name }, 'close failed');
    }
  }
  return allClosed;
}

/**
 * On the first SIGTERM or SIGINT, runs `closeInOrder(closers)` once and exits: 0 when all closed, 1 when one
 * failed or the whole took longer than `timeoutMs`. A second signal exits 1 at once (the impatient Ctrl-C).
 * Returns a function that removes the signal handlers.
 */
export function onShutdownSignal(
  closers: readonly Closer[],
  logger: Logger,
  { timeoutMs = 25_000, signals = ['SIGTERM', 'SIGINT'] }: ShutdownSignalOptions = {},
): () => void {
  let shuttingDown = false;
  const exit = (code: number): never => {
    logger.flush();
    process.exit(code);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (shuttingDown) {
      logger.warn({ signal }, 'second signal, exiting without waiting');
      exit(1);
    }
    shuttingDown = true;
    logger.info({ signal, timeoutMs }, 'shutting down');
    // Not unref'd: it also keeps the process alive while a closer waits on nothing that holds the event loop.
    setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown took too long, exiting');
      exit(1);
    }, timeoutMs);
    closeInOrder(closers, logger).then(
      (allClosed) => {
        if (allClosed) logger.info('shutdown complete');
        exit(allClosed ? 0 : 1);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
