import type { EventServiceImplementation } from '@ticket/contracts/v1/event/event_service';
import { parseRequest } from '@ticket/platform';
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

/** The EventService port: validate, call the use case, map back. */
export function eventService(context: EventContext): EventServiceImplementation {
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
    async createEvent(request, { signal }) {
      const command = parseRequest(createEventRequest, request);
      return { event: toEventMessage(await createEvent(context, command, signal)) };
    },
    async getEvent(request) {
      const { eventId } = parseRequest(getEventRequest, request);
      return { event: toEventMessage(await getEvent(context, eventId)) };
    },
    async listEvents(request) {
      const { pageSize, pageToken, locationId } = parseRequest(listEventsRequest, request);
      const page = await listEvents(context, { pageSize, after: pageToken, locationId });
      return { events: page.events.map(toEventMessage), nextPageToken: page.nextPageToken };
    },
    async getTicket(request) {
      const { ticketTypeId } = parseRequest(getTicketRequest, request);
      return { ticketType: toTicketTypeMessage(await getTicket(context, ticketTypeId)) };
    },
  };
}
