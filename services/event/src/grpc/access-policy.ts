import { EventServiceDefinition } from '@ticket/contracts/v1/event/event_service';
import { access, accessPolicy, Role } from '@ticket/platform';

/**
 * Who may call each EventService RPC. The catalogue is public: buyers browse it without an account, and checkout
 * reads ticket prices (GetTicket) without a token. Creating is for organizers (an admin passes every role check);
 * what an organizer may do to an event once it exists is the event's owner's (see requireEventManager).
 */
export const eventAccessPolicy = accessPolicy(EventServiceDefinition, {
  getEvent: access.public,
  listEvents: access.public,
  getTicket: access.public,
  listLocations: access.public,
  createLocation: access.roles(Role.organizer),
  createEvent: access.roles(Role.organizer),
});
