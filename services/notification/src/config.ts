import { DefaultPort, Topic } from '@ticket/contracts/topology';
import { ConfigError, commonConfig, env, loadConfig, userAuthConfig, userAuthProblems } from '@ticket/platform';
import { z } from 'zod';

const optionalText = () => z.string().trim().min(1).optional();

export const notificationConfigShape = {
  ...commonConfig,
  GRPC_PORT: env.port(DefaultPort.notification),
  /** Checkout's order events (its ORDER_EVENTS_TOPIC). */
  ORDER_EVENTS_TOPIC: z.string().min(1).default(Topic.orderEvents),
  /** This service's consumer group on ORDER_EVENTS_TOPIC. */
  KAFKA_GROUP_ID: z.string().min(1).default('notification'),
  /** Where order events that cannot be handled are parked (named after this consumer, like checkout's). */
  ORDER_EVENTS_DLQ_TOPIC: z.string().min(1).default('ticket.notification.v1.order-events.dlq'),
  /** The consumer's Kafka session: how soon a killed instance's partitions go to its successor (see the platform). */
  KAFKA_SESSION_TIMEOUT_MS: env.positiveInt(10_000),
  /** Below KAFKA_SESSION_TIMEOUT_MS, about a third of it. */
  KAFKA_HEARTBEAT_INTERVAL_MS: env.positiveInt(3_000),
  /**
   * Order events recorded per transaction (and per offset commit): one transaction per message capped the consumer
   * at about 130 events/s. A batch that fails is handled again one message at a time (see the platform's consumer).
   */
  KAFKA_CONSUMER_BATCH_SIZE: env.positiveInt(100),
  /** Partitions consumed at once: each stays in order (an order's events share one), they only overlap each other. */
  KAFKA_PARTITIONS_CONCURRENTLY: env.positiveInt(3),
  /** Partitions of the topics when this service creates them (it does when they do not exist yet). */
  KAFKA_TOPIC_PARTITIONS: env.positiveInt(3),
  /** `email` (SMTP) or `log` (development: the rendered message is logged). Default: email when SMTP_HOST is set. */
  NOTIFICATION_CHANNEL: z.enum(['email', 'log']).optional(),
  SMTP_HOST: optionalText(),
  SMTP_PORT: env.port(587),
  /** Implicit TLS from the first byte (port 465). */
  SMTP_SECURE: env.boolean(false),
  /** Refuse to send unless the server offers STARTTLS (on a plain port such as 587). */
  SMTP_REQUIRE_TLS: env.boolean(false),
  SMTP_USER: optionalText(),
  SMTP_PASSWORD: optionalText(),
  /** Connect, greeting and socket-idle timeout of one SMTP delivery. */
  SMTP_TIMEOUT_MS: env.positiveInt(15_000),
  MAIL_FROM: z.string().trim().min(3).default('Tickets <no-reply@ticket.local>'),
  /** First retry delay of a failed delivery; doubles with each attempt up to NOTIFY_RETRY_MAX_MS. */
  NOTIFY_RETRY_BASE_MS: env.positiveInt(1_000),
  NOTIFY_RETRY_MAX_MS: env.positiveInt(10 * 60_000),
  /**
   * Delivery attempts before a notification is FAILED (5xx replies fail at once). With the default delays, 150
   * attempts keep retrying for about a day, as mail servers do: an SMTP outage must not lose the ticket emails.
   */
  NOTIFY_MAX_ATTEMPTS: env.positiveInt(150),
  /** How often the delivery loop looks for due notifications when nothing woke it. */
  NOTIFY_POLL_INTERVAL_MS: env.positiveInt(1_000),
  /** Deliveries in flight at once (and pooled SMTP connections). */
  NOTIFY_CONCURRENCY: env.positiveInt(16),
  /**
   * A claimed notification is not claimed again for this long: if this process dies mid-delivery, another (or the
   * restarted one) retries it then. Keep it above the longest SMTP delivery (3 × SMTP_TIMEOUT_MS).
   */
  NOTIFY_CLAIM_TTL_MS: env.positiveInt(60_000),
  /** How users' tokens (`authorization: Bearer <token>`) are verified: AUTH_JWT_SECRET and/or a JWKS. */
  ...userAuthConfig,
};

type ParsedConfig = ReturnType<typeof loadConfig<typeof notificationConfigShape>>;

export type NotificationConfig = Omit<ParsedConfig, 'NOTIFICATION_CHANNEL'> & { NOTIFICATION_CHANNEL: 'email' | 'log' };

/** Reads and checks the configuration; the channel defaults to `log` when no SMTP_HOST is set. */
export function loadNotificationConfig(source: Record<string, string | undefined> = process.env): NotificationConfig {
  const config = loadConfig(notificationConfigShape, source);
  const channel = config.NOTIFICATION_CHANNEL ?? (config.SMTP_HOST === undefined ? 'log' : 'email');
  // Said here with the other problems, not only when the token verifier is built at start.
  const problems = userAuthProblems(config);
  if (channel === 'email' && config.SMTP_HOST === undefined) {
    problems.push('SMTP_HOST: required when NOTIFICATION_CHANNEL is email');
  }
  if ((config.SMTP_USER === undefined) !== (config.SMTP_PASSWORD === undefined)) {
    problems.push('SMTP_USER, SMTP_PASSWORD: set both or neither');
  }
  if (config.SMTP_SECURE && config.SMTP_REQUIRE_TLS) {
    problems.push('SMTP_REQUIRE_TLS: STARTTLS does not apply with SMTP_SECURE (already TLS); set one of them');
  }
  if (channel === 'email' && config.NOTIFY_CLAIM_TTL_MS < 3 * config.SMTP_TIMEOUT_MS) {
    // A claim that lapses while its delivery is still running would let a second attempt send a second copy.
    problems.push('NOTIFY_CLAIM_TTL_MS: must be at least 3 × SMTP_TIMEOUT_MS (connect, greeting, data)');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { ...config, NOTIFICATION_CHANNEL: channel };
}
