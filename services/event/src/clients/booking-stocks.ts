import type { BookingServiceDefinition } from '@ticket/contracts/v1/booking/booking_service';
import { DomainError, type Logger, type ServiceClient } from '@ticket/platform';
import { ClientError, Status } from 'nice-grpc';
import type { StockGateway } from '../app/context.ts';

/**
 * StockGateway over BookingService's gRPC API. CreateStock and DeleteStock are not marked idempotent in the
 * proto, but the way this service uses them is: ticket type ids are ours and random, so a stock that already
 * exists for one was created by an earlier attempt of ours (ALREADY_EXISTS means done), and a stock that is gone
 * was deleted (NOT_FOUND means done). So both calls opt in to the client's retries on UNAVAILABLE.
 */
export function bookingStockGateway(
  booking: ServiceClient<typeof BookingServiceDefinition>,
  logger: Logger,
): StockGateway {
  const { client } = booking;
  return {
    async ensureStock(key, seats) {
      try {
        await client.createStock({ ...key, seatsTotal: seats }, { retry: true });
      } catch (error) {
        if (hasCode(error, Status.ALREADY_EXISTS)) return;
        throw toGatewayError(error, 'CreateStock', logger);
      }
    },
    async removeStock(key) {
      try {
        await client.deleteStock(key, { retry: true });
      } catch (error) {
        if (hasCode(error, Status.NOT_FOUND)) return;
        throw toGatewayError(error, 'DeleteStock', logger);
      }
    },
  };
}

const hasCode = (error: unknown, code: Status): boolean => error instanceof ClientError && error.code === code;

/** Booking's refusal of our arguments stays INVALID_ARGUMENT; anything else means "booking failed, try later". */
function toGatewayError(error: unknown, method: string, logger: Logger): DomainError {
  if (hasCode(error, Status.INVALID_ARGUMENT)) {
    return new DomainError('invalid_argument', `booking refused the stock: ${(error as ClientError).details}`);
  }
  const code = error instanceof ClientError ? Status[error.code] : undefined;
  logger.warn({ err: error, method, code }, 'booking call failed');
  return new DomainError('unavailable', `booking ${method} failed${code ? ` (${code})` : ''}`);
}
