import { DefaultPort, localAddress } from '@ticket/contracts/topology';
import {
  ConfigError,
  commonConfig,
  env,
  loadConfig,
  serviceAuthConfig,
  userAuthConfig,
  userAuthProblems,
} from '@ticket/platform';

export const eventConfigShape = {
  ...commonConfig,
  GRPC_PORT: env.port(DefaultPort.event),
  /** host:port of BookingService, where each ticket type's stock is created. */
  BOOKING_ADDR: env.address(localAddress('booking')),
  /** Deadline of one booking call, retries included. */
  BOOKING_DEADLINE_MS: env.positiveInt(5_000),
  /**
   * How long a PENDING event (its stocks being created) belongs to the call creating it. Past this
   * without progress, the cleanup job rolls it back (deletes its stocks, then the event).
   */
  PENDING_EVENT_TIMEOUT_SECONDS: env.positiveInt(60),
  /** node-cron schedule (with seconds) of the job that rolls back stale PENDING events. */
  CLEANUP_SCHEDULE: env.cron('*/30 * * * * *'),
  /** How organizers' and admins' tokens (CreateLocation, CreateEvent) are verified: AUTH_JWT_SECRET and/or a JWKS. */
  ...userAuthConfig,
  /** The key this service signs its tokens to booking with (booking accepts no other caller). */
  ...serviceAuthConfig,
};

export type EventConfig = ReturnType<typeof loadEventConfig>;

export function loadEventConfig(source: Record<string, string | undefined> = process.env) {
  const config = loadConfig(eventConfigShape, source);
  // Said when the configuration is read, like every other bad variable, not only when the server starts.
  const problems = userAuthProblems(config);
  // The saga's lease is only safe if one booking call always ends well inside it: a call that outlived the
  // lease could create a stock after the cleanup job deleted the event's stocks. Twice the deadline leaves margin.
  if (config.BOOKING_DEADLINE_MS * 2 > config.PENDING_EVENT_TIMEOUT_SECONDS * 1_000) {
    problems.push(
      'BOOKING_DEADLINE_MS: must be at most half of PENDING_EVENT_TIMEOUT_SECONDS (in ms), so a booking call ends well within the pending-event lease',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
