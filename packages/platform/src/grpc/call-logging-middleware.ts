import { performance } from 'node:perf_hooks';
import type { ServerMiddleware } from 'nice-grpc-common';
import type { Logger } from '../logger.ts';
import { statusName } from './error-middleware.ts';

/**
 * One debug line per call: method, final status and duration. Attach it outside the error middleware so it logs
 * the status the client receives. Costs nothing when debug is off.
 */
export function createCallLoggingMiddleware(logger: Logger): ServerMiddleware {
  return async function* callLoggingMiddleware(call, context) {
    if (!logger.isLevelEnabled('debug')) return yield* call.next(call.request, context);
    const started = performance.now();
    let status = 'OK';
    try {
      return yield* call.next(call.request, context);
    } catch (error) {
      status = statusName(error);
      throw error;
    } finally {
      const durationMs = Math.round((performance.now() - started) * 100) / 100;
      logger.debug({ method: call.method.path, status, durationMs, peer: context.peer }, 'gRPC call');
    }
  };
}
