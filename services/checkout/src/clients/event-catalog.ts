import { EventServiceDefinition } from '@ticket/contracts/v1/event/event_service';
import { createServiceClient, type Logger, notFound, type ServiceClient } from '@ticket/platform';
import { ClientError, Metadata, Status } from 'nice-grpc-common';
import type { Catalog } from '../app/context.ts';

/**
 * The event service over gRPC: GetTicket and GetEvent (NO_SIDE_EFFECTS, so the client retries them on UNAVAILABLE).
 * Both are public reads; refundTerms sends the caller's own token, so that the event service itself says whether
 * the caller is the event's organizer (it shows organizer_id to the organizer and admins only).
 */
export function createEventCatalog(
  address: string,
  deadlineMs: number,
  logger: Logger,
): Catalog & { close(): void; raw: ServiceClient<typeof EventServiceDefinition> } {
  const raw = createServiceClient(EventServiceDefinition, address, {
    deadlineMs,
    logger,
  });
  return {
    raw,
    close: () => raw.close(),
    async getTicketType(ticketTypeId, signal) {
      try {
        const { ticketType } = await raw.client.getTicket({ ticketTypeId }, signal ? { signal } : {});
        if (!ticketType?.price) throw notFound(`ticket type ${ticketTypeId}`);
        return {
          id: ticketType.id,
          eventId: ticketType.eventId,
          name: ticketType.name,
          priceMinor: ticketType.price.amountMinor,
          currency: ticketType.price.currency,
        };
      } catch (error) {
        if (error instanceof ClientError && error.code === Status.NOT_FOUND)
          throw notFound(`ticket type ${ticketTypeId}`);
        throw error;
      }
    },
    async refundTerms(eventId, authorization) {
      try {
        const metadata = Metadata(authorization ? { authorization } : {});
        const { event } = await raw.client.getEvent({ eventId }, { metadata });
        return { organizerId: event?.organizerId || undefined, refundableUntil: event?.refundableUntil };
      } catch (error) {
        if (error instanceof ClientError && error.code === Status.NOT_FOUND) throw notFound(`event ${eventId}`);
        throw error;
      }
    },
  };
}
