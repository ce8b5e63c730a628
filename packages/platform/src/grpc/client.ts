import { connectivityState } from '@grpc/grpc-js';
import {
  type Channel,
  type ChannelOptions,
  type Client,
  type ClientMiddleware,
  type CompatServiceDefinition,
  createChannel,
  createClientFactory,
  Status,
} from 'nice-grpc';
import { type DeadlineOptions, deadlineMiddleware } from 'nice-grpc-client-middleware-deadline';
import { type RetryOptions, retryMiddleware } from 'nice-grpc-client-middleware-retry';
import { errorDetailsClientMiddleware } from 'nice-grpc-error-details';
import type { Logger } from '../logger.ts';
import { bearerCredentials } from './auth.ts';

/**
 * grpc-js waits up to 120 s between reconnects by default; the services call neighbours in the same deployment, and
 * one that restarted should be found again within a second or so. grpc-js adds ±20 % jitter to each backoff after
 * the first, so clients of one peer do not reconnect in lockstep. A DNS name (`booking:50610`) is re-resolved at
 * most every 30 s by default; a container that comes back on another address would be missed that long.
 */
const PEER_RECONNECT: ChannelOptions = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1_000,
  'grpc.dns_min_time_between_resolutions_ms': 1_000,
};

export type ServiceClientCallOptions = DeadlineOptions & RetryOptions;

export interface ServiceClientOptions {
  /** Deadline of every call unless the call sets its own (`{ deadline }`). It covers all retries. Default 5 s. */
  deadlineMs?: number;
  /** Retries after the first attempt, for IDEMPOTENT and NO_SIDE_EFFECTS methods only. Default 3. */
  retries?: number;
  /** First backoff; doubles each retry, with jitter, up to `retryMaxDelayMs`. Default 100 ms. */
  retryBaseDelayMs?: number;
  /** Default 2 s. */
  retryMaxDelayMs?: number;
  /** Each retry is logged at warn level when given. */
  logger?: Logger;
  /** The bearer token every call carries (a service token source, see createServiceTokenSource). */
  credentials?: () => Promise<string>;
  channelOptions?: ChannelOptions;
  /**
   * How long each attempt of an IDEMPOTENT or NO_SIDE_EFFECTS call waits for the channel to be connected before it
   * is sent (bounded by the deadline too). Without it, a call made while the peer is being reconnected fails at once
   * with UNAVAILABLE. Default 500 ms; 0 sends at once.
   */
  readyWaitMs?: number;
}

export interface ServiceClient<Service extends CompatServiceDefinition> {
  client: Client<Service, ServiceClientCallOptions>;
  channel: Channel;
  /** Closes the channel; calls still running fail with CANCELLED or UNAVAILABLE. */
  close(): void;
}

/**
 * A nice-grpc client with, from the outside in: a default deadline over the whole call including retries; retries
 * on UNAVAILABLE only, with exponential backoff, and only for methods whose proto says `idempotency_level`
 * IDEMPOTENT or NO_SIDE_EFFECTS (a call may opt in with `{ retry: true }`); errors with their google.rpc details
 * (`RichClientError`, e.g. the BadRequest field violations).
 *
 * Pass the server call's `context.signal` as `{ signal }` so a cancelled incoming call cancels its outgoing calls.
 *
 * @param address `host:port`
 */
export function createServiceClient<Service extends CompatServiceDefinition>(
  definition: Service,
  address: string,
  options: ServiceClientOptions = {},
): ServiceClient<Service> {
  const {
    deadlineMs = 5_000,
    retries = 3,
    retryBaseDelayMs = 100,
    retryMaxDelayMs = 2_000,
    readyWaitMs = 500,
    logger,
  } = options;
  const channel = createChannel(address, undefined, { ...PEER_RECONNECT, ...options.channelOptions });
  // The middleware added last runs first: deadline wraps retry (so a backoff wait ends at the deadline), which
  // wraps error details (so each attempt's error is already a RichClientError), which wraps the wait for a
  // connected channel (each attempt waits), which wraps the credentials (each attempt carries a current token).
  const factory = options.credentials
    ? createClientFactory().use(bearerCredentials(options.credentials))
    : createClientFactory();
  const client = factory
    .use(waitForReady(channel, readyWaitMs))
    .use(errorDetailsClientMiddleware)
    .use(retryMiddleware)
    .use(deadlineMiddleware)
    .create(definition, channel, {
      '*': {
        deadline: deadlineMs,
        // nice-grpc's retryMaxAttempts counts retries, not attempts: 1 means two attempts.
        retryMaxAttempts: retries,
        retryBaseDelayMs,
        retryMaxDelayMs,
        // Not the default [UNKNOWN, INTERNAL, UNAVAILABLE, CANCELLED]: only UNAVAILABLE says "try again".
        retryableStatuses: [Status.UNAVAILABLE],
        ...(logger === undefined
          ? {}
          : {
              onRetryableError(error, attempt, delayMs) {
                logger.warn({ method: error.path, code: Status[error.code], attempt, delayMs }, 'gRPC call retried');
              },
            }),
      },
    });
  return { client, channel, close: () => channel.close() };
}

/**
 * Before an attempt of a unary IDEMPOTENT or NO_SIDE_EFFECTS call, waits up to `waitMs` (and never past the call's
 * signal) for the channel to be READY, asking it to connect. grpc-js fails a call at once while its channel is in
 * TRANSIENT_FAILURE or backing off, so without this the retries of a call can all be spent inside one reconnect
 * backoff, and a peer that is back goes unused until some later call happens to find the channel connected. The
 * request goes out when the wait ends either way: if the peer is still down it fails with UNAVAILABLE as before, and
 * the retry middleware decides. (grpc-js's own `waitForReady` is a per-call metadata option nice-grpc does not
 * expose, and it would wait until the deadline, turning "peer down" into DEADLINE_EXCEEDED.)
 */
function waitForReady(channel: Channel, waitMs: number): ClientMiddleware {
  return async function* waitForReadyMiddleware(call, options) {
    const { idempotencyLevel } = call.method.options;
    const safeToWait = idempotencyLevel === 'IDEMPOTENT' || idempotencyLevel === 'NO_SIDE_EFFECTS';
    if (waitMs > 0 && safeToWait && !call.requestStream && !call.responseStream) {
      await channelReady(channel, waitMs, options.signal);
    }
    return yield* call.next(call.request, options);
  };
}

/** Resolves when the channel is READY, or after `waitMs`, or when `signal` aborts, whichever comes first. */
async function channelReady(channel: Channel, waitMs: number, signal: AbortSignal | undefined): Promise<void> {
  const until = Date.now() + waitMs;
  // `true`: leave IDLE, and out of TRANSIENT_FAILURE as soon as the reconnect backoff ends.
  let state = channel.getConnectivityState(true);
  while (
    state !== connectivityState.READY &&
    state !== connectivityState.SHUTDOWN &&
    signal?.aborted !== true &&
    Date.now() < until
  ) {
    const changed = Promise.withResolvers<void>();
    const onAbort = () => changed.resolve();
    signal?.addEventListener('abort', onAbort, { once: true });
    channel.watchConnectivityState(state, until, () => changed.resolve());
    await changed.promise;
    signal?.removeEventListener('abort', onAbort);
    state = channel.getConnectivityState(true);
  }
}
