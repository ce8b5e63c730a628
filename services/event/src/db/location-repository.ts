import type { Executor } from '@ticket/platform';
import { asc, eq, sql } from 'drizzle-orm';
import type { Location, NewLocation } from '../domain/event.ts';
import type { LocationCursor } from '../domain/page-token.ts';
import { locations } from './schema.ts';

export async function insertLocation(db: Executor, location: NewLocation): Promise<Location> {
  const [created] = await db.insert(locations).values(location).returning();
  if (!created) throw new Error('insert into locations returned no row');
  return created;
}

export async function locationExists(db: Executor, id: string): Promise<boolean> {
  const [row] = await db.select({ id: locations.id }).from(locations).where(eq(locations.id, id));
  return row !== undefined;
}

/** Locations by (name, id), after the cursor when given. */
export async function listLocationsPage(
  db: Executor,
  after: LocationCursor | undefined,
  limit: number,
): Promise<Location[]> {
  return db
    .select()
    .from(locations)
    .where(after ? sql`(${locations.name}, ${locations.id}) > (${after.name}, ${after.id}::uuid)` : undefined)
    .orderBy(asc(locations.name), asc(locations.id))
    .limit(limit);
}
