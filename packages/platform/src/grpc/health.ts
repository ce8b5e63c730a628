import type { ServerMiddleware } from 'nice-grpc-common';
import { HealthState } from 'nice-grpc-server-health';
import { isAbortError } from './error-middleware.ts';

export type ServingStatus = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/**
 * The entry that answers liveness: SERVING from the server's creation until it shuts down, whatever the
 * dependencies do, so a liveness probe (`ticket-healthcheck host:port --service liveness`, Kubernetes'
 * `grpc.service: liveness`) never restarts a process only because Postgres is away.
 */
export const LIVENESS_SERVICE = 'liveness';

/**
 * The status `grpc.health.v1.Health` reports. Readiness is service `''`, the server as a whole (what
 * `grpc-health-probe`, Docker's HEALTHCHECK, compose's `service_healthy` and Kubernetes ask by default), and each
 * added service's own entry, named by its full name: NOT_SERVING while a dependency is down (see
 * createHealthMonitor) or the server drains. Liveness is the separate `liveness` entry (LIVENESS_SERVICE).
 */
export interface GrpcHealth {
  /** Without a name: readiness, i.e. the whole server and every added service (not liveness). */
  setServing(service?: string): void;
  /** Without a name: readiness, i.e. the whole server and every added service (not liveness). */
  setNotServing(service?: string): void;
  status(service?: string): ServingStatus;
}

/** @internal the server keeps the state and tells it which services exist. */
export interface HealthRegistry extends GrpcHealth {
  readonly state: HealthState;
  register(service: string): void;
}

export function createHealthRegistry(): HealthRegistry {
  const state = HealthState();
  const services = new Set<string>();
  state.setStatus('healthy', LIVENESS_SERVICE);
  const setAll = (status: 'healthy' | 'unhealthy', service: string | undefined): void => {
    for (const name of service === undefined ? ['', ...services] : [service]) state.setStatus(status, name);
  };
  return {
    state,
    register(service) {
      services.add(service);
      // A service added while the server is marked NOT_SERVING must not report SERVING on its own.
      state.setStatus(state.getStatus(''), service);
    },
    setServing: (service) => setAll('healthy', service),
    setNotServing: (service) => setAll('unhealthy', service),
    status(service = '') {
      const status = state.getStatus(service);
      return status === 'healthy' ? 'SERVING' : status === 'unhealthy' ? 'NOT_SERVING' : 'SERVICE_UNKNOWN';
    },
  };
}

export interface StreamTerminator {
  /** Gives calls `context.abortOnTerminate()`, which `HealthServiceImpl`'s Watch calls. */
  middleware: ServerMiddleware<{ abortOnTerminate(): void }>;
  /** Ends every stream that opted in, cleanly (status OK), so a graceful shutdown need not wait for them. */
  terminate(): void;
}

/**
 * `Health.Watch` streams until the client goes away, which would hold a graceful shutdown until its timeout.
 * This is the small part of nice-grpc-server-middleware-terminator that health needs (that package is not a
 * dependency).
 */
export function createStreamTerminator(): StreamTerminator {
  const open = new Set<AbortController>();
  let terminated = false;
  return {
    middleware: async function* terminatorMiddleware(call, context) {
      const controller = new AbortController();
      const forwardAbort = (): void => controller.abort();
      context.signal.addEventListener('abort', forwardAbort);
      try {
        return yield* call.next(call.request, {
          ...context,
          signal: controller.signal,
          abortOnTerminate() {
            if (terminated) controller.abort();
            else open.add(controller);
          },
        });
      } catch (error) {
        const endedByTerminate = controller.signal.aborted && !context.signal.aborted;
        if (call.responseStream && endedByTerminate && isAbortError(error)) return;
        throw error;
      } finally {
        context.signal.removeEventListener('abort', forwardAbort);
        open.delete(controller);
      }
    },
    terminate() {
      terminated = true;
      for (const controller of open) controller.abort();
      open.clear();
    },
  };
}
