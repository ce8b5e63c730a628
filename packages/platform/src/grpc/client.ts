import {
  type Channel,
  type ChannelOptions,
  type Client,
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
 * one that restarted should be found again within a couple of seconds.
 */
const PEER_RECONNECT: ChannelOptions = {
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 2_000,
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
  const { deadlineMs = 5_000, retries = 3, retryBaseDelayMs = 100, retryMaxDelayMs = 2_000, logger } = options;
  const channel = createChannel(address, undefined, { ...PEER_RECONNECT, ...options.channelOptions });
  // The middleware added last runs first: deadline wraps retry (so a backoff wait ends at the deadline), which
  // wraps error details (so each attempt's error is already a RichClientError), which wraps the credentials (each
  // attempt carries a current token).
  const factory = options.credentials
    ? createClientFactory().use(bearerCredentials(options.credentials))
    : createClientFactory();
  const client = factory
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
