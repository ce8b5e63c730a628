import { EventServiceDefinition } from '@ticket/contracts/v1/event/event_service';
import { createServiceClient, type Logger, notFound, type ServiceClient } from '@ticket/platform';
import { ClientError, Status } from 'nice-grpc-common';
import type { Catalog } from '../app/context.ts';

/** The event service over gRPC: GetTicket (NO_SIDE_EFFECTS, so the client retries it on UNAVAILABLE). */
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
  };
}
