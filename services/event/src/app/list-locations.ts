import { listLocationsPage } from '../db/location-repository.ts';
import type { Location } from '../domain/event.ts';
import { encodeLocationCursor, type LocationCursor } from '../domain/page-token.ts';
import type { EventContext } from './context.ts';

export interface LocationPage {
  locations: Location[];
  /** Empty on the last page. */
  nextPageToken: string;
}

/** ListLocations: by (name, id), keyset-paginated; one row more than the page tells whether a next page exists. */
export async function listLocations(
  context: EventContext,
  query: { pageSize: number; after: LocationCursor | undefined },
): Promise<LocationPage> {
  const rows = await listLocationsPage(context.db, query.after, query.pageSize + 1);
  const locations = rows.slice(0, query.pageSize);
  const last = locations.at(-1);
  const nextPageToken =
    rows.length > query.pageSize && last ? encodeLocationCursor({ name: last.name, id: last.id }) : '';
  return { locations, nextPageToken };
}
