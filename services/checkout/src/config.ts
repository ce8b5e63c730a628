import { DefaultPort, localAddress, Topic } from '@ticket/contracts/topology';
import {
  ConfigError,
  commonConfig,
  env,
  loadConfig,
  serviceAuthConfig,
  userAuthConfig,
  userAuthProblems,
} from '@ticket/platform';
import { z } from 'zod';

export const checkoutConfigShape = {
  ...commonConfig,
  GRPC_PORT: env.port(DefaultPort.checkout),
  /** The event service (ticket types and prices). */
  EVENT_ADDR: env.address(localAddress('event')),
  /** The booking service (seat holds). */
  BOOKING_ADDR: env.address(localAddress('booking')),
  /** Deadline of one call to the event service, retries included. */
  EVENT_DEADLINE_MS: env.positiveInt(3_000),
  /** Deadline of one call to the booking service, retries included. */
  BOOKING_DEADLINE_MS: env.positiveInt(5_000),
  /** Most seats one order may hold, over all of its lines. */
  MAX_SEATS_PER_ORDER: env.positiveInt(10),
  /** Calls to booking (holds) that PlaceOrder runs at once. */
  HOLD_PARALLELISM: env.positiveInt(4),
  ORDER_EVENTS_TOPIC: z.string().min(1).default(Topic.orderEvents),
  /** Booking's hold-expiry topic (its BOOKING_EVENTS_TOPIC). */
  BOOKING_EVENTS_TOPIC: z.string().min(1).default(Topic.bookingsExpired),
  /** Consumer group of this service on BOOKING_EVENTS_TOPIC. */
  BOOKING_EVENTS_GROUP: z.string().min(1).default('checkout.bookings-expired'),
  /** Where booking events that cannot be handled are parked. */
  BOOKING_EVENTS_DLQ_TOPIC: z.string().min(1).default('ticket.checkout.v1.bookings-expired.dlq'),
  /** Partitions of the topics when this service creates them. */
  KAFKA_TOPIC_PARTITIONS: env.positiveInt(3),
  /** node-cron schedule (with seconds) of the check that expires CREATED orders past expires_at. */
  EXPIRY_CHECK_SCHEDULE: env.cron('*/30 * * * * *'),
  /**
   * The check leaves an order alone until this long after its expires_at, so booking's own sweep and its event
   * normally expire it first; the check is the safety net for a lost event.
   */
  EXPIRY_CHECK_GRACE_SECONDS: z.coerce.number().int().min(0).default(30),
  /** Orders the check looks at per run. */
  EXPIRY_CHECK_BATCH_SIZE: env.positiveInt(200),
  /** How buyers' and admins' tokens (`authorization: Bearer <token>`) are verified: AUTH_JWT_SECRET and/or a JWKS. */
  ...userAuthConfig,
  /** The key checkout signs its service tokens to booking with (booking accepts no other caller). */
  ...serviceAuthConfig,
};

export type CheckoutConfig = ReturnType<typeof loadCheckoutConfig>;

export function loadCheckoutConfig(source: Record<string, string | undefined> = process.env) {
  const config = loadConfig(checkoutConfigShape, source);
  // Said when the configuration is read, like every other bad variable, not only when the server starts.
  const problems = userAuthProblems(config);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
