import { listActiveEvents } from '../db/event-repository.ts';
import { locationExists } from '../db/location-repository.ts';
import { type Event, locationNotFound } from '../domain/event.ts';
import { type EventCursor, encodeEventCursor } from '../domain/page-token.ts';
import type { EventContext } from './context.ts';

export interface ListEventsQuery {
  pageSize: number;
  after: EventCursor | undefined;
  locationId: string | undefined;
}

export interface EventPage {
  events: Event[];
  /** Empty on the last page. */
  nextPageToken: string;
}

/**
 * ListEvents: visible events by (starts_at, id), keyset-paginated. Two queries whatever the page size: the
 * events with their locations, then all their ticket types. One row more than the page tells whether a next
 * page exists.
 */
export async function listEvents(context: EventContext, query: ListEventsQuery): Promise<EventPage> {
  const rows = await listActiveEvents(context.db, {
    after: query.after,
    locationId: query.locationId,
    limit: query.pageSize + 1,
  });
  // An unknown location has no events, so only an empty page needs the extra lookup.
  if (rows.length === 0 && query.locationId !== undefined && !(await locationExists(context.db, query.locationId))) {
    throw locationNotFound(query.locationId);
  }
  const events = rows.slice(0, query.pageSize);
  const last = events.at(-1);
  const nextPageToken =
    rows.length > query.pageSize && last
      ? encodeEventCursor({ startsAt: last.startsAt, id: last.id, locationId: query.locationId ?? null })
      : '';
  return { events, nextPageToken };
}
