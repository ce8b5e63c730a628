import type { EventServiceImplementation } from '@ticket/contracts/v1/event/event_service';
import { type AuthContext, parseRequest } from '@ticket/platform';
import type { EventContext } from '../app/context.ts';
import { createEvent } from '../app/create-event.ts';
import { createLocation } from '../app/create-location.ts';
import { getEvent } from '../app/get-event.ts';
import { getTicket } from '../app/get-ticket.ts';
import { listEvents } from '../app/list-events.ts';
import { listLocations } from '../app/list-locations.ts';
import { toEventMessage, toLocationMessage, toTicketTypeMessage } from '../mapping.ts';
import {
  createEventRequest,
  createLocationRequest,
  getEventRequest,
  getTicketRequest,
  listEventsRequest,
  listLocationsRequest,
} from './requests.ts';

/**
 * The EventService port: validate, call the use case, map back. The auth middleware has already applied
 * eventAccessPolicy; `caller` decides what an event's message shows (its organizer, to its manager only).
 */
export function eventService(context: EventContext): EventServiceImplementation<AuthContext> {
  return {
    async createLocation(request) {
      return {
        location: toLocationMessage(await createLocation(context, parseRequest(createLocationRequest, request))),
      };
    },
    async listLocations(request) {
      const { pageSize, pageToken } = parseRequest(listLocationsRequest, request);
      const page = await listLocations(context, { pageSize, after: pageToken });
      return { locations: page.locations.map(toLocationMessage), nextPageToken: page.nextPageToken };
    },
    async createEvent(request, { signal, caller }) {
      const command = { ...parseRequest(createEventRequest, request), organizerId: caller.id };
      return { event: toEventMessage(await createEvent(context, command, signal), caller) };
    },
    async getEvent(request, { caller }) {
      const { eventId } = parseRequest(getEventRequest, request);
      return { event: toEventMessage(await getEvent(context, eventId), caller) };
    },
    async listEvents(request, { caller }) {
      const { pageSize, pageToken, locationId } = parseRequest(listEventsRequest, request);
      const page = await listEvents(context, { pageSize, after: pageToken, locationId });
      return { events: page.events.map((event) => toEventMessage(event, caller)), nextPageToken: page.nextPageToken };
    },
    async getTicket(request) {
      const { ticketTypeId } = parseRequest(getTicketRequest, request);
      return { ticketType: toTicketTypeMessage(await getTicket(context, ticketTypeId)) };
    },
  };
}
