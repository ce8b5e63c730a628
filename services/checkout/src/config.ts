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
  /**
   * How long booking's "not enough seats" for a ticket type answers later buyers asking as many, without asking
   * booking again (see SoldOutMemo); 0: always ask.
   */
  SOLD_OUT_MEMO_MS: z.coerce.number().int().min(0).default(1_000),
  /**
   * How long a ticket type's name and price, as the event service gave them, serve AddToCart and PlaceOrder without
   * asking again (see rememberTicketTypes); 0: always ask.
   */
  TICKET_TYPE_MEMO_MS: z.coerce.number().int().min(0).default(1_000),
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
  /** Who takes the money: the sandbox PSP (development, tests) or Stripe. */
  PAYMENT_PROVIDER: z.enum(['sandbox', 'stripe']).default('sandbox'),
  /** Where the provider's webhooks are received (HTTP, POST /webhooks/<provider>). */
  PAYMENT_WEBHOOK_HOST: z.string().min(1).default('0.0.0.0'),
  PAYMENT_WEBHOOK_PORT: env.port(DefaultPort.checkout + 1),
  /** Longest wait for one call to the provider. */
  PAYMENT_TIMEOUT_MS: env.positiveInt(5_000),
  /** The sandbox PSP (PAYMENT_PROVIDER=sandbox). */
  PAYMENT_SANDBOX_URL: env.url('http://127.0.0.1:50640'),
  PAYMENT_SANDBOX_API_KEY: z.string().min(1).optional(),
  PAYMENT_SANDBOX_WEBHOOK_SECRET: z.string().min(16).optional(),
  /** Stripe (PAYMENT_PROVIDER=stripe): the secret API key and the webhook endpoint's signing secret. */
  STRIPE_SECRET_KEY: z.string().min(1).optional(),
  STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** Another Stripe API base (a local test server); unset: Stripe's. */
  STRIPE_API_URL: z.url().optional(),
  /** node-cron schedule (with seconds) of the job that retries unfinished refunds. */
  REFUND_RETRY_SCHEDULE: env.cron('*/5 * * * * *'),
  /** Refunds one run of that job takes up. */
  REFUND_RETRY_BATCH_SIZE: env.positiveInt(50),
  /** How buyers' and admins' tokens (`authorization: Bearer <token>`) are verified: AUTH_JWT_SECRET and/or a JWKS. */
  ...userAuthConfig,
  /** The key checkout signs its service tokens to booking with (booking accepts no other caller). */
  ...serviceAuthConfig,
};

export type CheckoutConfig = ReturnType<typeof loadCheckoutConfig>;

export function loadCheckoutConfig(source: Record<string, string | undefined> = process.env) {
  const config = loadConfig(checkoutConfigShape, source);
  // Said when the configuration is read, like every other bad variable, not only when the server starts.
  const problems = [...userAuthProblems(config), ...paymentProblems(config)];
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The chosen provider's own variables are required. */
function paymentProblems(config: z.infer<z.ZodObject<typeof checkoutConfigShape>>): string[] {
  const required =
    config.PAYMENT_PROVIDER === 'sandbox'
      ? (['PAYMENT_SANDBOX_API_KEY', 'PAYMENT_SANDBOX_WEBHOOK_SECRET'] as const)
      : (['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET'] as const);
  return required
    .filter((variable) => config[variable] === undefined)
    .map((variable) => `${variable}: required when PAYMENT_PROVIDER is ${config.PAYMENT_PROVIDER}`);
}
