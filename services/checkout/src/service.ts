import { join } from 'node:path';
import { readDescriptorSet } from '@ticket/contracts/descriptor-set';
import { CheckoutServiceDefinition } from '@ticket/contracts/v1/checkout/checkout_service';
import {
  type AuthContext,
  type Closer,
  closeDatabase,
  createAuthMiddleware,
  createGrpcServer,
  createHealthMonitor,
  createKafka,
  createOutboxPublisher,
  createServiceMetrics,
  createServiceTokenSource,
  createUserTokenVerifier,
  databaseCheck,
  type Logger,
  openServiceDatabase,
  type RunningService,
  runningService,
  scheduleJob,
  startConsumerInBackground,
  startMetricsEndpoint,
  userTokenOptions,
} from '@ticket/platform';
import type { Catalog, CheckoutContext, SeatLedger } from './app/context.ts';
import { checkOverdueOrders } from './app/expire-orders.ts';
import { processDueRefunds } from './app/refunds.ts';
import { SoldOutMemo } from './app/sold-out-memo.ts';
import { rememberTicketTypes } from './app/ticket-type-memo.ts';
import { createBookingLedger } from './clients/booking-ledger.ts';
import { createEventCatalog } from './clients/event-catalog.ts';
import type { CheckoutConfig } from './config.ts';
import { createBookingsExpiredConsumer } from './consumers/bookings-expired.ts';
import { outbox } from './db/schema.ts';
import { checkoutAccess, checkoutService } from './grpc/checkout-service.ts';
import { startWebhookServer } from './http/webhook-server.ts';
import { createPaymentProvider } from './payments/index.ts';
import type { PaymentProvider } from './payments/provider.ts';

export const CHECKOUT_SCHEMA = 'checkout';
export const CHECKOUT_MIGRATIONS = join(import.meta.dirname, 'db/migrations');

/** The running service, and the port its payment webhooks listen on (PAYMENT_WEBHOOK_PORT=0 picks a free one). */
export type RunningCheckoutService = RunningService<CheckoutContext> & { webhookPort: number };

export interface CheckoutDependencies {
  /** Replaces the event service client (tests); by default a gRPC client of EVENT_ADDR. */
  catalog?: Catalog;
  /** Replaces the booking service client (tests); by default a gRPC client of BOOKING_ADDR. */
  seats?: SeatLedger;
  /** Replaces the payment provider PAYMENT_PROVIDER names (tests). */
  payments?: PaymentProvider;
}

/**
 * The composition root: config → database → clients of event and booking → use cases → gRPC server (behind JWT
 * auth), the bookings-expired consumer, the overdue-order check and the outbox relay. Kafka may be down at start
 * and at any time after: orders are placed, paid and cancelled regardless; events wait in the outbox.
 */
export async function startCheckoutService(
  config: CheckoutConfig,
  logger: Logger,
  dependencies: CheckoutDependencies = {},
): Promise<RunningCheckoutService> {
  // First: a configuration that can verify no token fails before anything is opened.
  const verifyUser = createUserTokenVerifier(userTokenOptions(config));
  const db = await openServiceDatabase(
    config,
    { name: 'checkout', schema: CHECKOUT_SCHEMA, migrationsFolder: CHECKOUT_MIGRATIONS },
    logger,
  );
  // The clients made here, not the ones a test passed in, are this service's to close.
  const ownClients: { close(): void }[] = [];
  const own = <Client extends { close(): void }>(client: Client): Client => {
    ownClients.push(client);
    return client;
  };
  const catalog = dependencies.catalog ?? own(createEventCatalog(config.EVENT_ADDR, config.EVENT_DEADLINE_MS, logger));
  const bookingToken = createServiceTokenSource({
    secret: config.SERVICE_AUTH_SECRET,
    service: 'checkout',
    audience: 'booking',
  });
  const seats =
    dependencies.seats ??
    own(createBookingLedger(config.BOOKING_ADDR, config.BOOKING_DEADLINE_MS, logger, bookingToken));

  const kafka = createKafka({ clientId: 'checkout', brokers: config.KAFKA_BROKERS, logger });
  const topics = [
    { topic: config.ORDER_EVENTS_TOPIC, partitions: config.KAFKA_TOPIC_PARTITIONS },
    { topic: config.BOOKING_EVENTS_TOPIC, partitions: config.KAFKA_TOPIC_PARTITIONS },
    { topic: config.BOOKING_EVENTS_DLQ_TOPIC, partitions: 1 },
  ];
  const metrics = createServiceMetrics('checkout');
  const { producer, relay } = createOutboxPublisher({
    kafka,
    db,
    table: outbox,
    topics,
    logger,
    registry: metrics.registry,
  });
  const payments = dependencies.payments ?? createPaymentProvider(config);
  const context: CheckoutContext = {
    db,
    config,
    logger,
    catalog: rememberTicketTypes(catalog, config.TICKET_TYPE_MEMO_MS),
    seats,
    soldOut: new SoldOutMemo(config.SOLD_OUT_MEMO_MS),
    payments,
    eventsCommitted: () => relay.wake(),
  };

  const server = createGrpcServer<AuthContext>({
    logger,
    metrics,
    descriptorSet: readDescriptorSet(),
    middleware: createAuthMiddleware(verifyUser, checkoutAccess),
  });
  server.add(CheckoutServiceDefinition, checkoutService(context));
  // Readiness is Postgres only. Kafka is not: orders are written with their outbox rows and the consumer catches up,
  // so RPCs go on while it is away. Nor are booking and event: a peer's outage fails the calls that need it
  // (UNAVAILABLE), while reads and payments still work, and one service's NOT_SERVING would cascade to its callers.
  const healthMonitor = createHealthMonitor({
    health: server.health,
    dependencies: [databaseCheck(db)],
    config,
    logger,
  });
  const port = await server.listen(config.GRPC_HOST, config.GRPC_PORT);
  const metricsEndpoint = await startMetricsEndpoint(metrics, config, logger);
  healthMonitor.start();
  const webhooks = await startWebhookServer(context, config.PAYMENT_WEBHOOK_HOST, config.PAYMENT_WEBHOOK_PORT, logger);
  relay.start();
  const consumer = startConsumerInBackground({
    kafka,
    consumer: createBookingsExpiredConsumer(context, {
      kafka,
      topic: config.BOOKING_EVENTS_TOPIC,
      groupId: config.BOOKING_EVENTS_GROUP,
      deadLetterTopic: config.BOOKING_EVENTS_DLQ_TOPIC,
    }),
    topics,
    logger,
    name: 'bookings-expired consumer',
  });
  const overdueCheck = scheduleJob(
    'check-overdue-orders',
    config.EXPIRY_CHECK_SCHEDULE,
    async () => ({ ...(await checkOverdueOrders(context)) }),
    logger,
  );
  const refundRetry = scheduleJob(
    'retry-refunds',
    config.REFUND_RETRY_SCHEDULE,
    async () => ({ ...(await processDueRefunds(context, config.REFUND_RETRY_BATCH_SIZE)) }),
    logger,
  );
  logger.info({ port, webhookPort: webhooks.port }, 'checkout service listening');

  const closers: Closer[] = [
    { name: 'health monitor', close: () => healthMonitor.stop() },
    { name: 'grpc server', close: () => server.shutdown() },
    { name: 'payment webhooks', close: () => webhooks.close() },
    { name: 'overdue order check', close: () => overdueCheck.destroy() },
    { name: 'refund retries', close: () => refundRetry.destroy() },
    { name: 'bookings-expired consumer', close: () => consumer.stop() },
    { name: 'outbox relay', close: () => relay.stop() },
    { name: 'kafka producer', close: () => producer.disconnect() },
    {
      name: 'service clients',
      close: () => {
        for (const client of ownClients) client.close();
      },
    },
    { name: 'metrics endpoint', close: () => metricsEndpoint.close() },
    { name: 'database', close: () => closeDatabase(db) },
  ];
  return { ...runningService(port, context, closers, logger), webhookPort: webhooks.port };
}
