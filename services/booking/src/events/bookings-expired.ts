import { randomUUID } from 'node:crypto';
import { EventTypeHeader } from '@ticket/contracts/topology';
import { BookingsExpired } from '@ticket/contracts/v1/booking/booking_events';
import { addToOutbox, type Executor } from '@ticket/platform';
import { outbox } from '../db/schema.ts';
import type { Booking } from '../domain/booking.ts';
import { toBookingMessage } from '../mapping.ts';

/**
 * One BookingsExpired event per order whose holds expired, keyed by order id, written in the
 * transaction that expired them: checkout learns of every expiry exactly as it happened.
 */
export async function recordBookingsExpired(tx: Executor, topic: string, expired: readonly Booking[]): Promise<void> {
  const byOrder = Map.groupBy(expired, (booking) => booking.orderId);
  await addToOutbox(
    tx,
    outbox,
    [...byOrder].map(([orderId, holds]) => {
      const event = BookingsExpired.fromPartial({
        eventId: randomUUID(),
        occurredAt: new Date(),
        orderId,
        bookings: holds.map(toBookingMessage),
      });
      return {
        topic,
        key: orderId,
        eventId: event.eventId,
        eventType: EventTypeHeader.bookingsExpired,
        payload: BookingsExpired.encode(event).finish(),
      };
    }),
  );
}
