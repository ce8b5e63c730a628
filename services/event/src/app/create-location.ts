import { insertLocation } from '../db/location-repository.ts';
import type { Location, NewLocation } from '../domain/event.ts';
import type { EventContext } from './context.ts';

/** CreateLocation. Not idempotent (the proto has no key): a repeat creates a second location of the same name. */
export function createLocation(context: EventContext, location: NewLocation): Promise<Location> {
  return insertLocation(context.db, location);
}
