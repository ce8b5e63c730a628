import { join } from 'node:path';
import { readDescriptorSet } from '@ticket/contracts/descriptor-set';
import { BookingServiceDefinition } from '@ticket/contracts/v1/booking/booking_service';
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
  createServiceTokenVerifier,
  databaseCheck,
  type Logger,
  openServiceDatabase,
  type RunningService,
  runningService,
  scheduleJob,
  startMetricsEndpoint,
} from '@ticket/platform';
import type { BookingContext } from './app/context.ts';
import { createHoldBatcher } from './app/create-booking.ts';
import { createHoldMetrics } from './app/hold-metrics.ts';
import { releaseLapsedHolds } from './app/release-lapsed-holds.ts';
import type { BookingConfig } from './config.ts';
import { outbox } from './db/schema.ts';
import { bookingAccessPolicy } from './grpc/access-policy.ts';
import { bookingService } from './grpc/booking-service.ts';

export const BOOKING_SCHEMA = 'booking';
export const BOOKING_MIGRATIONS = join(import.meta.dirname, 'db/migrations');

export type RunningBookingService = RunningService<BookingContext>;

/**
 * The composition root: config → database → use cases → gRPC server (for event and checkout only, by their
 * service tokens), expiry job, outbox relay.
 * Kafka may be down at start: the relay connects and creates its topic when it can, and holds never
 * wait for it.
 */
export async function startBookingService(config: BookingConfig, logger: Logger): Promise<RunningBookingService> {
  const db = await openServiceDatabase(
    config,
    { name: 'booking', schema: BOOKING_SCHEMA, migrationsFolder: BOOKING_MIGRATIONS },
    logger,
  );
  const kafka = createKafka({ clientId: 'booking', brokers: config.KAFKA_BROKERS, logger });
  const metrics = createServiceMetrics('booking');
  const { producer, relay } = createOutboxPublisher({
    kafka,
    db,
    table: outbox,
    topics: [{ topic: config.BOOKING_EVENTS_TOPIC, partitions: config.KAFKA_TOPIC_PARTITIONS }],
    logger,
    registry: metrics.registry,
  });
  const context: BookingContext = { db, config, logger, eventsCommitted: () => relay.wake() };

  const server = createGrpcServer<AuthContext>({
    logger,
    metrics,
    descriptorSet: readDescriptorSet(),
    middleware: createAuthMiddleware(
      createServiceTokenVerifier({ secret: config.SERVICE_AUTH_SECRET, audience: 'booking' }),
      bookingAccessPolicy,
    ),
  });
  server.add(
    BookingServiceDefinition,
    bookingService(context, createHoldBatcher(context, createHoldMetrics(metrics.registry))),
  );
  // Readiness is Postgres only: holds and sales are written with their outbox rows, so they go on while Kafka is
  // away (the relay catches up). NOT_SERVING until the first check has reached the database.
  const healthMonitor = createHealthMonitor({
    health: server.health,
    dependencies: [databaseCheck(db)],
    config,
    logger,
  });
  const port = await server.listen(config.GRPC_HOST, config.GRPC_PORT);
  const metricsEndpoint = await startMetricsEndpoint(metrics, config, logger);
  healthMonitor.start();
  const expiry = scheduleJob(
    'expire-holds',
    config.EXPIRY_SCHEDULE,
    async () => ({ released: await releaseLapsedHolds(context) }),
    logger,
  );
  relay.start();
  logger.info({ port }, 'booking service listening');

  const closers: Closer[] = [
    { name: 'health monitor', close: () => healthMonitor.stop() },
    { name: 'grpc server', close: () => server.shutdown() },
    { name: 'hold expiry job', close: () => expiry.destroy() },
    { name: 'outbox relay', close: () => relay.stop() },
    { name: 'kafka producer', close: () => producer.disconnect() },
    { name: 'metrics endpoint', close: () => metricsEndpoint.close() },
    { name: 'database', close: () => closeDatabase(db) },
  ];
  return runningService(port, context, closers, logger);
}
