import { DefaultPort, Topic } from '@ticket/contracts/topology';
import { commonConfig, env, loadConfig, serviceAuthConfig } from '@ticket/platform';
import { z } from 'zod';

export const bookingConfigShape = {
  ...commonConfig,
  /**
   * Internal: only event and checkout call booking, so by default it listens on loopback only. A deployment where
   * they run elsewhere (compose, Kubernetes) sets 0.0.0.0 and keeps the port off the public network.
   */
  GRPC_HOST: z.string().min(1).default('127.0.0.1'),
  GRPC_PORT: env.port(DefaultPort.booking),
  /** How long a hold keeps its seats before it expires. */
  HOLD_TTL_SECONDS: env.positiveInt(15 * 60),
  /** node-cron schedule (with seconds) of the expiry sweep. */
  EXPIRY_SCHEDULE: env.cron('*/10 * * * * *'),
  /** Lapsed holds one sweep statement releases (the earliest, with the rest of their orders'). */
  EXPIRY_BATCH_SIZE: env.positiveInt(1_000),
  /** Most CreateBooking calls on one stock that share a transaction (group commit). */
  HOLD_BATCH_MAX: env.positiveInt(256),
  BOOKING_EVENTS_TOPIC: z.string().min(1).default(Topic.bookingsExpired),
  /** Partitions of the topic when this service creates it. */
  KAFKA_TOPIC_PARTITIONS: env.positiveInt(3),
  /** The key event and checkout sign their service tokens with; every call must carry one, meant for booking. */
  ...serviceAuthConfig,
};

export type BookingConfig = ReturnType<typeof loadBookingConfig>;

export const loadBookingConfig = (source: Record<string, string | undefined> = process.env) =>
  loadConfig(bookingConfigShape, source);
