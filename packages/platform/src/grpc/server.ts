import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CompatServiceDefinition,
  createServer,
  type ChannelOptions as GrpcOptions,
  type ServerMiddleware,
  type ServiceImplementation,
} from 'nice-grpc';
import { errorDetailsServerMiddleware } from 'nice-grpc-error-details';
import { HealthDefinition, HealthServiceImpl } from 'nice-grpc-server-health';
import type { Logger } from '../logger.ts';
import type { ServiceMetrics } from '../metrics.ts';
import { createCallLoggingMiddleware } from './call-logging-middleware.ts';
import { createErrorMiddleware } from './error-middleware.ts';
import { createHealthRegistry, createStreamTerminator, type GrpcHealth, LIVENESS_SERVICE } from './health.ts';
import { createReflection, ServerReflectionService, ServerReflectionV1AlphaService } from './reflection.ts';
import {
  createDecodingErrorDescriber,
  createTimestampCheck,
  guardRequestDecoding,
  rejectUndecodableRequests,
  requestRegistry,
} from './request-decoding.ts';

export interface GrpcServerOptions<CallContextExt = object> {
  logger: Logger;
  /**
   * Encoded `google.protobuf.FileDescriptorSet` (with imports) of the served protos. When given, server reflection
   * lists every added service, so `grpcurl -plaintext host:port list` works without .proto files.
   */
  descriptorSet?: Uint8Array;
  /**
   * Runs inside the error middleware, on the added services only (not on health or reflection): the place for
   * authentication. A `DomainError` it throws is mapped like one from a handler.
   */
  middleware?: ServerMiddleware<CallContextExt>;
  /** Counts and times every call to the added services (createServiceMetrics), outermost: it sees final statuses. */
  metrics?: Pick<ServiceMetrics, 'grpcServerMiddleware'>;
  /** Largest message received or sent, in bytes. Default 4 MiB. */
  maxMessageBytes?: number;
  /** After this, `shutdown()` cancels the calls still running (handlers see `context.signal` abort). Default 10 s. */
  shutdownTimeoutMs?: number;
  /**
   * Time between reporting NOT_SERVING and refusing new calls, so health probes and load balancers stop sending
   * traffic before the listener closes. Default 0; behind Kubernetes, a few seconds.
   */
  drainDelayMs?: number;
}

export interface GrpcServer<CallContextExt = object> {
  /** Adds a service (before `listen`). Its full name is reported by health and listed by reflection. */
  add<Service extends CompatServiceDefinition>(
    definition: Service,
    implementation: ServiceImplementation<Service, CallContextExt>,
  ): void;
  readonly health: GrpcHealth;
  /** Binds and starts serving; returns the bound port (pass 0 for any free port). */
  listen(host: string, port: number): Promise<number>;
  /**
   * Graceful stop: health NOT_SERVING, wait `drainDelayMs`, refuse new calls and let running ones finish, cancel
   * what is still running after `shutdownTimeoutMs`. Calling it again returns the same promise.
   */
  shutdown(): Promise<void>;
}

const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

const passThrough: ServerMiddleware = async function* passThrough(call, context) {
  return yield* call.next(call.request, context);
};
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

export function createGrpcServer<CallContextExt = object>(
  options: GrpcServerOptions<CallContextExt>,
): GrpcServer<CallContextExt> {
  const { logger, descriptorSet, middleware } = options;
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const drainDelayMs = options.drainDelayMs ?? 0;

  const grpcOptions: GrpcOptions = {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
  };
  // Outermost first: metrics and logging see the final status; error details must wrap the mapping that throws
  // RichServerError; a request that could not be decoded is refused inside the mapping, before authentication and
  // handlers.
  const server = createServer(grpcOptions)
    .use(options.metrics?.grpcServerMiddleware ?? passThrough)
    .use(createCallLoggingMiddleware(logger))
    .use(errorDetailsServerMiddleware)
    .use(createErrorMiddleware(logger))
    .use(rejectUndecodableRequests);
  // Every definition served goes through this, so no request bytes can end in grpc-js's INTERNAL.
  const registry = requestRegistry(descriptorSet);
  const describeDecodingError = createDecodingErrorDescriber(registry);
  const checkTimestamps = createTimestampCheck(registry);
  const guarded = <Service extends CompatServiceDefinition>(definition: Service): Service =>
    guardRequestDecoding(definition, describeDecodingError, checkTimestamps);
  const health = createHealthRegistry();
  const terminator = createStreamTerminator();
  const serviceNames: string[] = [];
  let listening = false;
  let stopping: Promise<void> | undefined;

  async function stop(): Promise<void> {
    health.setNotServing();
    health.setNotServing(LIVENESS_SERVICE); // the process is going away: nothing left to keep alive
    logger.info({ drainDelayMs, shutdownTimeoutMs }, 'gRPC server draining');
    if (drainDelayMs > 0) await sleep(drainDelayMs);
    terminator.terminate();
    const timeout = new AbortController();
    const drained = await Promise.race([
      server.shutdown().then(() => true),
      sleep(shutdownTimeoutMs, false, { signal: timeout.signal }).catch(() => false),
    ]);
    timeout.abort();
    if (drained) {
      logger.info('gRPC server stopped');
    } else {
      logger.warn({ shutdownTimeoutMs }, 'gRPC calls still running after the shutdown timeout, cancelling them');
      server.forceShutdown();
    }
  }

  return {
    add(definition, implementation) {
      if (listening) throw new Error('add services before listen()');
      const name = serviceName(definition);
      if (middleware === undefined) {
        // Without a middleware the context has no extension, so the cast only restates CallContextExt = object.
        server.add(guarded(definition), implementation as ServiceImplementation<typeof definition>);
      } else {
        server.with(middleware).add(guarded(definition), implementation);
      }
      serviceNames.push(name);
      health.register(name);
    },
    health,
    async listen(host, port) {
      if (listening) throw new Error('listen() was already called');
      listening = true;
      server.with(terminator.middleware).add(guarded(HealthDefinition), HealthServiceImpl(health.state));
      if (descriptorSet !== undefined) {
        const reflection = createReflection(descriptorSet, serviceNames);
        server.add(guarded(ServerReflectionService), reflection);
        server.add(guarded(ServerReflectionV1AlphaService), reflection);
      }
      const bound = await server.listen(`${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`);
      logger.info({ host, port: bound, services: serviceNames }, 'gRPC server listening');
      return bound;
    },
    shutdown() {
      stopping ??= stop();
      return stopping;
    },
  };
}

/** `ticket.event.v1.EventService`, from a ts-proto definition or from a grpc-js one's method paths. */
function serviceName(definition: CompatServiceDefinition): string {
  if ('fullName' in definition && typeof definition.fullName === 'string') return definition.fullName;
  const path = Object.values(definition as Record<string, { path?: unknown }>)[0]?.path;
  const match = typeof path === 'string' ? /^\/([^/]+)\//.exec(path) : null;
  if (match?.[1] === undefined) throw new Error('cannot tell the service name of this definition');
  return match[1];
}
