import type {
  Event as EventMessage,
  Location as LocationMessage,
  TicketType as TicketTypeMessage,
} from '@ticket/contracts/v1/event/event_service';
import type { Caller } from '@ticket/platform';
import { canManageEvent, type Event, type Location, type TicketType } from './domain/event.ts';

// Domain → contract, for the gRPC handlers.

export const toLocationMessage = (location: Location): LocationMessage => ({
  id: location.id,
  name: location.name,
  address: location.address,
  city: location.city,
  countryCode: location.countryCode,
  createdAt: location.createdAt,
});

export const toTicketTypeMessage = (ticketType: TicketType): TicketTypeMessage => ({
  id: ticketType.id,
  eventId: ticketType.eventId,
  name: ticketType.name,
  price: { amountMinor: ticketType.price.amountMinor, currency: ticketType.price.currency },
  seats: ticketType.seats,
});

/** The event as `caller` may see it: its organizer only to the organizer itself and to admins (the admin view). */
export const toEventMessage = (event: Event, caller: Caller): EventMessage => ({
  id: event.id,
  name: event.name,
  description: event.description,
  startsAt: event.startsAt,
  endsAt: event.endsAt,
  location: event.location ? toLocationMessage(event.location) : undefined,
  ticketTypes: event.ticketTypes.map(toTicketTypeMessage),
  createdAt: event.createdAt,
  organizerId: canManageEvent(caller, event) ? (event.organizerId ?? '') : '',
  // Public, unlike the organizer: buyers need it to know whether they may refund.
  refundableUntil: event.refundableUntil,
});
