import { BookingsExpired } from '@ticket/contracts/v1/booking/booking_events';
import { createIdempotentConsumer, type IdempotentConsumer, type Kafka, PoisonMessageError } from '@ticket/platform';
import type { CheckoutContext } from '../app/context.ts';
import { expireOrderOnLapsedHolds } from '../app/expire-orders.ts';
import { processedEvents } from '../db/schema.ts';

export interface BookingsExpiredConsumerOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  deadLetterTopic: string;
}

/**
 * Booking's hold-expiry events → EXPIRED orders, when they name one of the order's own holds (see
 * expireOrderOnLapsedHolds). The platform consumer records each event id in the same
 * transaction as the order change, so a redelivered event changes nothing and announces nothing twice.
 */
export function createBookingsExpiredConsumer(
  context: CheckoutContext,
  { kafka, topic, groupId, deadLetterTopic }: BookingsExpiredConsumerOptions,
): IdempotentConsumer {
  return createIdempotentConsumer({
    kafka,
    db: context.db,
    table: processedEvents,
    groupId,
    topics: [topic],
    deadLetterTopic,
    logger: context.logger,
    async handle(event, tx) {
      const message = decode(event.value);
      const bookingIds = message.bookings.map((booking) => booking.id).filter((id) => UUID.test(id));
      if (await expireOrderOnLapsedHolds(tx, context, message.orderId, bookingIds)) {
        context.logger.info({ orderId: message.orderId }, 'order expired: its holds lapsed');
        // Woken before the commit; the relay's next poll publishes the event should it look too early.
        context.eventsCommitted();
      }
    },
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function decode(value: Buffer): BookingsExpired {
  let message: BookingsExpired;
  try {
    message = BookingsExpired.decode(value);
  } catch (error) {
    throw new PoisonMessageError('not a BookingsExpired message', { cause: error });
  }
  if (!/^[0-9a-f-]{36}$/i.test(message.orderId)) throw new PoisonMessageError('BookingsExpired without an order_id');
  return message;
}
