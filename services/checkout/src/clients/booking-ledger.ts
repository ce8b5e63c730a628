import { type Booking, BookingServiceDefinition, BookingStatus } from '@ticket/contracts/v1/booking/booking_service';
import {
  createServiceClient,
  type DomainError,
  failedPrecondition,
  type Logger,
  resourceExhausted,
  type ServiceClient,
} from '@ticket/platform';
import { ClientError, Status } from 'nice-grpc-common';
import type { SeatLedger } from '../app/context.ts';
import type { Hold } from '../domain/order.ts';

const statusOf: Record<number, Hold['status']> = {
  [BookingStatus.BOOKING_STATUS_HELD]: 'HELD',
  [BookingStatus.BOOKING_STATUS_SOLD]: 'SOLD',
  [BookingStatus.BOOKING_STATUS_RELEASED]: 'RELEASED',
  [BookingStatus.BOOKING_STATUS_EXPIRED]: 'EXPIRED',
};

export function toHold(booking: Booking): Hold {
  const status = statusOf[booking.status];
  if (!status || !booking.expiresAt) throw new Error(`booking ${booking.id} has no known status or expiry`);
  return {
    id: booking.id,
    ticketTypeId: booking.ticketTypeId,
    seats: booking.seats,
    status,
    expiresAt: booking.expiresAt,
  };
}

/**
 * The booking service over gRPC. The platform client retries on UNAVAILABLE only the methods the proto marks
 * safe to repeat: CreateBooking (idempotency key), ExpireBookings, DeleteOrderBookings and ReturnSoldSeats (IDEMPOTENT),
 * GetBookings.
 * Booking is internal and answers only the other services: every call carries checkout's service token from
 * `credentials` (see createServiceTokenSource), never the buyer's.
 */
export function createBookingLedger(
  address: string,
  deadlineMs: number,
  logger: Logger,
  credentials: () => Promise<string>,
): SeatLedger & { close(): void; raw: ServiceClient<typeof BookingServiceDefinition> } {
  const raw = createServiceClient(BookingServiceDefinition, address, {
    deadlineMs,
    logger,
    credentials,
  });
  const options = (signal?: AbortSignal) => (signal ? { signal } : {});
  return {
    raw,
    close: () => raw.close(),
    async hold(request, signal) {
      try {
        const { booking } = await raw.client.createBooking(request, options(signal));
        if (!booking) throw new Error('CreateBooking answered without a booking');
        return { hold: toHold(booking) };
      } catch (error) {
        const refusal = holdRefusal(error);
        if (refusal) return { refused: refusal };
        throw error;
      }
    },
    async release(orderId, bookingIds, signal) {
      const { bookings } = await raw.client.expireBookings({ orderId, bookingIds: [...bookingIds] }, options(signal));
      return bookings.map(toHold);
    },
    async sell(orderId, signal) {
      try {
        const { bookings } = await raw.client.deleteOrderBookings({ orderId }, options(signal));
        return { sold: bookings.map(toHold) };
      } catch (error) {
        // FAILED_PRECONDITION: a hold expired or was released. NOT_FOUND: the order has no bookings any more
        // (booking deletes lapsed holds with their stock). Either way these seats cannot be sold.
        if (
          error instanceof ClientError &&
          (error.code === Status.FAILED_PRECONDITION || error.code === Status.NOT_FOUND)
        ) {
          return { unpayable: error.details };
        }
        throw error;
      }
    },
    async list(orderId, signal) {
      const { bookings } = await raw.client.getBookings({ orderId, includeExpired: true }, options(signal));
      return bookings.map(toHold);
    },
    async returnSold(orderId, seats, idempotencyKey, signal) {
      await raw.client.returnSoldSeats({ orderId, seats: [...seats], idempotencyKey }, options(signal));
    },
  };
}

/** Booking's final answers to a hold, as checkout's own errors; anything else is not a refusal and is thrown. */
function holdRefusal(error: unknown): DomainError | undefined {
  if (!(error instanceof ClientError)) return undefined;
  switch (error.code) {
    case Status.RESOURCE_EXHAUSTED:
      return resourceExhausted(error.details);
    case Status.NOT_FOUND:
      return failedPrecondition(`no seats on sale for this ticket type (${error.details})`);
    case Status.ALREADY_EXISTS:
      return failedPrecondition(`an earlier attempt of this order held other seats (${error.details})`);
    default:
      return undefined;
  }
}
