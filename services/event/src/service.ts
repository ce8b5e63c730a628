import { join } from 'node:path';
import { readDescriptorSet } from '@ticket/contracts/descriptor-set';
import { BookingServiceDefinition } from '@ticket/contracts/v1/booking/booking_service';
import { EventServiceDefinition } from '@ticket/contracts/v1/event/event_service';
import {
  type AuthContext,
  type Closer,
  closeDatabase,
  createAuthMiddleware,
  createGrpcServer,
  createHealthMonitor,
  createServiceClient,
  createServiceMetrics,
  createServiceTokenSource,
  createUserTokenVerifier,
  databaseCheck,
  type Logger,
  openServiceDatabase,
  type RunningService,
  runningService,
  scheduleJob,
  startMetricsEndpoint,
  userTokenOptions,
} from '@ticket/platform';
import { cleanUpPendingEvents } from './app/clean-up-pending-events.ts';
import type { EventContext } from './app/context.ts';
import { bookingStockGateway } from './clients/booking-stocks.ts';
import type { EventConfig } from './config.ts';
import { eventAccessPolicy } from './grpc/access-policy.ts';
import { eventService } from './grpc/event-service.ts';

export const EVENT_SCHEMA = 'event';
export const EVENT_MIGRATIONS = join(import.meta.dirname, 'db/migrations');

export type RunningEventService = RunningService<EventContext>;

/**
 * The composition root: config → database, booking client (with this service's identity) → use cases → gRPC
 * server (behind user-token auth: reads public, creating for organizers), cleanup job. Booking may be down at
 * start: the channel connects when a call needs it.
 */
export async function startEventService(config: EventConfig, logger: Logger): Promise<RunningEventService> {
  // First, so that a service that cannot verify any token fails before it touches the database.
  const verifyUserToken = createUserTokenVerifier(userTokenOptions(config));
  const db = await openServiceDatabase(
    config,
    { name: 'event', schema: EVENT_SCHEMA, migrationsFolder: EVENT_MIGRATIONS },
    logger,
  );
  const booking = createServiceClient(BookingServiceDefinition, config.BOOKING_ADDR, {
    deadlineMs: config.BOOKING_DEADLINE_MS,
    logger,
    credentials: createServiceTokenSource({
      secret: config.SERVICE_AUTH_SECRET,
      service: 'event',
      audience: 'booking',
    }),
  });
  const context: EventContext = { db, config, logger, stocks: bookingStockGateway(booking, logger) };

  const metrics = createServiceMetrics('event');
  const server = createGrpcServer<AuthContext>({
    logger,
    metrics,
    descriptorSet: readDescriptorSet(),
    middleware: createAuthMiddleware(verifyUserToken, eventAccessPolicy),
  });
  server.add(EventServiceDefinition, eventService(context));
  // Readiness is Postgres only (event has no Kafka). Booking is not: reads and edits go on while it is away, and
  // one service's NOT_SERVING would cascade to its callers. NOT_SERVING until the first check reached the database.
  const healthMonitor = createHealthMonitor({
    health: server.health,
    dependencies: [databaseCheck(db)],
    config,
    logger,
  });
  const port = await server.listen(config.GRPC_HOST, config.GRPC_PORT);
  const metricsEndpoint = await startMetricsEndpoint(metrics, config, logger);
  healthMonitor.start();
  const cleanup = scheduleJob(
    'clean-up-pending-events',
    config.CLEANUP_SCHEDULE,
    async () => ({ ...(await cleanUpPendingEvents(context)) }),
    logger,
  );
  logger.info({ port }, 'event service listening');

  const closers: Closer[] = [
    { name: 'health monitor', close: () => healthMonitor.stop() },
    { name: 'grpc server', close: () => server.shutdown() },
    { name: 'pending event cleanup job', close: () => cleanup.destroy() },
    { name: 'booking client', close: () => booking.close() },
    { name: 'metrics endpoint', close: () => metricsEndpoint.close() },
    { name: 'database', close: () => closeDatabase(db) },
  ];
  return runningService(port, context, closers, logger);
}
