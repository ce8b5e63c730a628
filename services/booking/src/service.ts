import { join } from 'node:path';
import { readDescriptorSet } from '@ticket/contracts/descriptor-set';
import { BookingServiceDefinition } from '@ticket/contracts/v1/booking/booking_service';
import {
  type Closer,
  closeDatabase,
  closeInOrder,
  createDatabase,
  createGrpcServer,
  createKafka,
  createOutboxRelay,
  createProducer,
  ensureTopics,
  type Logger,
  migrateSchema,
} from '@ticket/platform';
import type { BookingContext } from './app/context.ts';
import { createHoldBatcher } from './app/create-booking.ts';
import type { BookingConfig } from './config.ts';
import { outbox } from './db/schema.ts';
import { bookingService } from './grpc/booking-service.ts';
import { scheduleHoldExpiry } from './jobs/expire-holds.ts';

export const BOOKING_SCHEMA = 'booking';
export const BOOKING_MIGRATIONS = join(import.meta.dirname, 'db/migrations');

export interface RunningBookingService {
  /** The bound gRPC port (GRPC_PORT=0 picks a free one). */
  port: number;
  context: BookingContext;
  /** In reverse start order: what a shutdown closes. */
  closers: Closer[];
  stop(): Promise<void>;
}

/**
 * The composition root: config → database → use cases → gRPC server, expiry job, outbox relay.
 * Kafka may be down at start: the relay connects and creates its topic when it can, and holds never
 * wait for it.
 */
export async function startBookingService(config: BookingConfig, logger: Logger): Promise<RunningBookingService> {
  if (config.MIGRATE_ON_START) {
    await migrateSchema({ url: config.DATABASE_URL, schema: BOOKING_SCHEMA, migrationsFolder: BOOKING_MIGRATIONS });
  }
  const db = createDatabase({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: 'booking',
    logger,
  });
  const kafka = createKafka({ clientId: 'booking', brokers: config.KAFKA_BROKERS, logger });
  const producer = createProducer(kafka);
  const relay = createOutboxRelay({
    db,
    table: outbox,
    producer,
    logger,
    prepare: async () => {
      await ensureTopics(kafka, [{ topic: config.BOOKING_EVENTS_TOPIC, partitions: config.KAFKA_TOPIC_PARTITIONS }]);
      await producer.connect();
    },
  });
  const context: BookingContext = { db, config, logger, eventsCommitted: () => relay.wake() };

  const server = createGrpcServer({ logger, descriptorSet: readDescriptorSet() });
  server.add(BookingServiceDefinition, bookingService(context, createHoldBatcher(context)));
  const port = await server.listen(config.GRPC_HOST, config.GRPC_PORT);
  const expiry = scheduleHoldExpiry(context, config.EXPIRY_SCHEDULE, logger);
  relay.start();
  logger.info({ port }, 'booking service listening');

  const closers: Closer[] = [
    { name: 'grpc server', close: () => server.shutdown() },
    { name: 'hold expiry job', close: () => expiry.destroy() },
    { name: 'outbox relay', close: () => relay.stop() },
    { name: 'kafka producer', close: () => producer.disconnect() },
    { name: 'database', close: () => closeDatabase(db) },
  ];
  return { port, context, closers, stop: async () => void (await closeInOrder(closers, logger)) };
}
