import { join } from 'node:path';
import { readDescriptorSet } from '@ticket/contracts/descriptor-set';
import { NotificationServiceDefinition } from '@ticket/contracts/v1/notification/notification_service';
import {
  type AuthContext,
  brokerCheck,
  type Closer,
  closeDatabase,
  createAuthMiddleware,
  createGrpcServer,
  createHealthMonitor,
  createIdempotentConsumer,
  createKafka,
  createServiceMetrics,
  createUserTokenVerifier,
  databaseCheck,
  type Logger,
  openServiceDatabase,
  type RunningService,
  runningService,
  startConsumerInBackground,
  startMetricsEndpoint,
  userTokenOptions,
} from '@ticket/platform';
import type { NotificationContext } from './app/context.ts';
import { createDeliveryLoop } from './app/deliver-notifications.ts';
import { createDeliveryMetrics } from './app/delivery-metrics.ts';
import type { NotificationConfig } from './config.ts';
import { handleOrderEvent, handleOrderEvents } from './consumers/order-events.ts';
import { processedEvents } from './db/schema.ts';
import { createLogSender } from './delivery/log-sender.ts';
import type { Sender } from './delivery/sender.ts';
import { createSmtpSender } from './delivery/smtp-sender.ts';
import type { Channel } from './domain/notification.ts';
import { notificationAccess, notificationService } from './grpc/notification-service.ts';

export const NOTIFICATION_SCHEMA = 'notification';
export const NOTIFICATION_MIGRATIONS = join(import.meta.dirname, 'db/migrations');

export type RunningNotificationService = RunningService<NotificationContext>;

/**
 * The composition root: config → database → order-events consumer (records notifications) → delivery loop (sends
 * them) → gRPC server (ListNotifications, health). Kafka may be down at start: the consumer keeps trying to join,
 * health says NOT_SERVING meanwhile, and ListNotifications answers from Postgres all along.
 */
export async function startNotificationService(
  config: NotificationConfig,
  logger: Logger,
): Promise<RunningNotificationService> {
  // First: a configuration that can verify no token fails before anything is opened.
  const verifyUser = createUserTokenVerifier(userTokenOptions(config));
  const db = await openServiceDatabase(
    config,
    { name: 'notification', schema: NOTIFICATION_SCHEMA, migrationsFolder: NOTIFICATION_MIGRATIONS },
    logger,
  );
  const context: NotificationContext = { db, config, logger };

  const senders: Partial<Record<Channel, Sender>> = { LOG: createLogSender(logger) };
  if (config.SMTP_HOST !== undefined) senders.EMAIL = createSmtpSender(config);
  const metrics = createServiceMetrics('notification');
  const delivery = createDeliveryLoop({
    db,
    logger,
    senders,
    policy: {
      baseMs: config.NOTIFY_RETRY_BASE_MS,
      maxMs: config.NOTIFY_RETRY_MAX_MS,
      maxAttempts: config.NOTIFY_MAX_ATTEMPTS,
    },
    concurrency: config.NOTIFY_CONCURRENCY,
    pollIntervalMs: config.NOTIFY_POLL_INTERVAL_MS,
    claimTtlMs: config.NOTIFY_CLAIM_TTL_MS,
    metrics: createDeliveryMetrics(metrics.registry),
  });

  const kafka = createKafka({ clientId: 'notification', brokers: config.KAFKA_BROKERS, logger });
  const consumer = createIdempotentConsumer({
    kafka,
    db,
    table: processedEvents,
    groupId: config.KAFKA_GROUP_ID,
    topics: [config.ORDER_EVENTS_TOPIC],
    deadLetterTopic: config.ORDER_EVENTS_DLQ_TOPIC,
    logger,
    handle: handleOrderEvent(context),
    handleBatch: handleOrderEvents(context),
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: config.KAFKA_HEARTBEAT_INTERVAL_MS,
    // Recording only inserts, in the batch's order, and an order's events are all in its key's partition, in order.
    maxBatchSize: config.KAFKA_CONSUMER_BATCH_SIZE,
    partitionsConsumedConcurrently: config.KAFKA_PARTITIONS_CONCURRENTLY,
    // The notification is committed now: deliver it without waiting for the next poll.
    onApplied: () => delivery.wake(),
  });
  const background = startConsumerInBackground({
    kafka,
    consumer,
    topics: [
      { topic: config.ORDER_EVENTS_TOPIC, partitions: config.KAFKA_TOPIC_PARTITIONS },
      { topic: config.ORDER_EVENTS_DLQ_TOPIC, partitions: config.KAFKA_TOPIC_PARTITIONS },
    ],
    logger,
    name: 'order events consumer',
  });

  const server = createGrpcServer<AuthContext>({
    logger,
    metrics,
    descriptorSet: readDescriptorSet(),
    middleware: createAuthMiddleware(verifyUser, notificationAccess),
  });
  server.add(NotificationServiceDefinition, notificationService(context));
  // Readiness needs Postgres (ListNotifications, recording), the broker and the consumer in its group: without
  // them no email goes out, which is this service's job. Until the first check has seen all three: NOT_SERVING.
  const healthMonitor = createHealthMonitor({
    health: server.health,
    dependencies: [
      databaseCheck(db),
      brokerCheck({ clientId: 'notification', brokers: config.KAFKA_BROKERS, logger }),
      { name: 'consumer', reachable: () => consumer.isRunning() },
    ],
    config,
    logger,
  });
  const port = await server.listen(config.GRPC_HOST, config.GRPC_PORT);
  const metricsEndpoint = await startMetricsEndpoint(metrics, config, logger);
  delivery.start();
  healthMonitor.start();
  logger.info(
    { port, channel: config.NOTIFICATION_CHANNEL, topic: config.ORDER_EVENTS_TOPIC },
    'notification service listening',
  );

  const closers: Closer[] = [
    { name: 'health monitor', close: () => healthMonitor.stop() },
    { name: 'grpc server', close: () => server.shutdown() },
    { name: 'order events consumer', close: () => background.stop() },
    { name: 'delivery loop', close: () => delivery.stop() },
    { name: 'senders', close: async () => void (await Promise.all(Object.values(senders).map((s) => s.close()))) },
    { name: 'metrics endpoint', close: () => metricsEndpoint.close() },
    { name: 'database', close: () => closeDatabase(db) },
  ];
  return runningService(port, context, closers, logger);
}
