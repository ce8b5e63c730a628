import type { Executor } from '@ticket/platform';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { CreateEventCommand, Event, EventStatus, Location, TicketType } from '../domain/event.ts';
import type { EventCursor } from '../domain/page-token.ts';
import { events, locations, ticketTypes } from './schema.ts';

// Reads see ACTIVE events only: a PENDING event's stocks may not exist yet, an ABANDONED one is being removed.

const eventColumns = {
  id: events.id,
  name: events.name,
  description: events.description,
  startsAt: events.startsAt,
  endsAt: events.endsAt,
  createdAt: events.createdAt,
  organizerId: events.organizerId,
  refundableUntil: events.refundableUntil,
  location: {
    id: locations.id,
    name: locations.name,
    address: locations.address,
    city: locations.city,
    countryCode: locations.countryCode,
    createdAt: locations.createdAt,
  },
};

type EventRow = Omit<Event, 'ticketTypes' | 'location' | 'organizerId' | 'refundableUntil'> & {
  location: Location | null;
  organizerId: string | null;
  refundableUntil: Date | null;
};

function selectActiveEvents(db: Executor) {
  return db.select(eventColumns).from(events).leftJoin(locations, eq(locations.id, events.locationId));
}

/** The events with their ticket types: one query for all their ticket types, whatever the number of events. */
async function withTicketTypes(db: Executor, rows: readonly EventRow[]): Promise<Event[]> {
  const types = await ticketTypesOfEvents(
    db,
    rows.map((row) => row.id),
  );
  return rows.map(({ location, organizerId, refundableUntil, ...row }) => ({
    ...row,
    location: location ?? undefined,
    organizerId: organizerId ?? undefined,
    refundableUntil: refundableUntil ?? undefined,
    ticketTypes: types.get(row.id) ?? [],
  }));
}

async function ticketTypesOfEvents(db: Executor, eventIds: readonly string[]): Promise<Map<string, TicketType[]>> {
  const byEvent = new Map<string, TicketType[]>();
  if (eventIds.length === 0) return byEvent;
  const rows = await db
    .select()
    .from(ticketTypes)
    .where(inArray(ticketTypes.eventId, [...eventIds]))
    .orderBy(asc(ticketTypes.eventId), asc(ticketTypes.position));
  for (const row of rows) {
    const list = byEvent.get(row.eventId) ?? [];
    list.push(toTicketType(row));
    byEvent.set(row.eventId, list);
  }
  return byEvent;
}

const toTicketType = (row: typeof ticketTypes.$inferSelect): TicketType => ({
  id: row.id,
  eventId: row.eventId,
  name: row.name,
  price: { amountMinor: row.priceMinor, currency: row.currency },
  seats: row.seats,
});

export async function findActiveEvent(db: Executor, id: string): Promise<Event | undefined> {
  const rows = await selectActiveEvents(db).where(and(eq(events.id, id), eq(events.status, 'ACTIVE')));
  const [event] = await withTicketTypes(db, rows);
  return event;
}

/** A page of visible events by (starts_at, id), after the cursor, optionally at one location. */
export async function listActiveEvents(
  db: Executor,
  { after, locationId, limit }: { after: EventCursor | undefined; locationId: string | undefined; limit: number },
): Promise<Event[]> {
  const rows = await selectActiveEvents(db)
    .where(
      and(
        eq(events.status, 'ACTIVE'),
        locationId === undefined ? undefined : eq(events.locationId, locationId),
        after === undefined
          ? undefined
          : sql`(${events.startsAt}, ${events.id}) > (${after.startsAt.toISOString()}::timestamptz, ${after.id}::uuid)`,
      ),
    )
    .orderBy(asc(events.startsAt), asc(events.id))
    .limit(limit);
  return withTicketTypes(db, rows);
}

export async function findActiveTicketType(db: Executor, id: string): Promise<TicketType | undefined> {
  const [row] = await db
    .select({ ticketType: ticketTypes })
    .from(ticketTypes)
    .innerJoin(events, eq(events.id, ticketTypes.eventId))
    .where(and(eq(ticketTypes.id, id), eq(events.status, 'ACTIVE')));
  return row ? toTicketType(row.ticketType) : undefined;
}

// ---- The CreateEvent saga's bookkeeping ----

/** An event whose stocks are being created or removed: what the saga needs to call booking. */
export interface UnfinishedEvent {
  id: string;
  ticketTypes: { id: string; seats: number }[];
}

export interface EventByKey {
  id: string;
  status: EventStatus;
  requestFingerprint: string;
}

/** The organizer's event made with `key`: keys are per organizer, so another organizer's is never found. */
export async function findEventByIdempotencyKey(
  db: Executor,
  organizerId: string,
  key: string,
): Promise<EventByKey | undefined> {
  const [row] = await db
    .select({ id: events.id, status: events.status, requestFingerprint: events.requestFingerprint })
    .from(events)
    .where(and(eq(events.organizerId, organizerId), eq(events.idempotencyKey, key)));
  return row;
}

/**
 * Inserts the event as PENDING, owned by `claimId`, with its ticket types, in one transaction. Undefined when
 * another call of the same organizer inserted an event with the same idempotency key first. An unknown location
 * makes the insert fail on its foreign key (23503 on events_location_fk).
 */
export async function insertPendingEvent(
  db: Executor,
  command: CreateEventCommand,
  fingerprint: string,
  claimId: string,
): Promise<UnfinishedEvent | undefined> {
  return db.transaction(async (tx) => {
    const [event] = await tx
      .insert(events)
      .values({
        name: command.name,
        description: command.description,
        startsAt: command.startsAt,
        endsAt: command.endsAt,
        locationId: command.locationId ?? null,
        refundableUntil: command.refundableUntil ?? null,
        status: 'PENDING',
        organizerId: command.organizerId,
        idempotencyKey: command.idempotencyKey,
        requestFingerprint: fingerprint,
        claimId,
      })
      .onConflictDoNothing({ target: [events.organizerId, events.idempotencyKey] })
      .returning({ id: events.id });
    if (!event) return undefined;
    const types = await tx
      .insert(ticketTypes)
      .values(
        command.ticketTypes.map((type, position) => ({
          eventId: event.id,
          position,
          name: type.name,
          priceMinor: type.price.amountMinor,
          currency: type.price.currency,
          seats: type.seats,
        })),
      )
      .returning({ id: ticketTypes.id, seats: ticketTypes.seats, position: ticketTypes.position });
    types.sort((a, b) => a.position - b.position);
    return { id: event.id, ticketTypes: types.map(({ id, seats }) => ({ id, seats })) };
  });
}

/**
 * Takes over a PENDING event to resume its saga: when nobody owns it, or its owner let the lease lapse
 * (no progress for `leaseSeconds`). One conditional statement, so of two racing callers (or a caller and the
 * cleanup job) exactly one wins. Returns the event when this call now owns it.
 */
export async function claimPendingEvent(
  db: Executor,
  id: string,
  claimId: string,
  leaseSeconds: number,
): Promise<UnfinishedEvent | undefined> {
  const [claimed] = await db
    .update(events)
    .set({ claimId, updatedAt: sql`now()` })
    .where(
      and(
        eq(events.id, id),
        eq(events.status, 'PENDING'),
        sql`(${events.claimId} is null or ${events.updatedAt} < now() - make_interval(secs => ${leaseSeconds}))`,
      ),
    )
    .returning({ id: events.id });
  if (!claimed) return undefined;
  const [event] = await unfinishedEvents(db, [claimed.id]);
  return event;
}

/** The events with the ticket types whose stocks the saga creates or deletes; one query. */
async function unfinishedEvents(db: Executor, ids: readonly string[]): Promise<UnfinishedEvent[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .select({ eventId: ticketTypes.eventId, id: ticketTypes.id, seats: ticketTypes.seats })
    .from(ticketTypes)
    .where(inArray(ticketTypes.eventId, [...ids]))
    .orderBy(asc(ticketTypes.eventId), asc(ticketTypes.position));
  return ids.map((id) => ({
    id,
    ticketTypes: rows.filter((row) => row.eventId === id).map((row) => ({ id: row.id, seats: row.seats })),
  }));
}

/**
 * The cleanup job's claim: up to `limit` unfinished events nobody touched for `leaseSeconds` become ABANDONED and
 * owned by `claimId`. Rows another transaction is updating right now (a resume claiming it) are skipped, and the
 * age condition is re-checked after the lock, so a resumed event is never taken.
 */
export async function claimStaleEvents(
  db: Executor,
  claimId: string,
  leaseSeconds: number,
  limit: number,
): Promise<UnfinishedEvent[]> {
  const stale = db.$with('stale').as(
    db
      .select({ id: events.id })
      .from(events)
      .where(
        and(
          inArray(events.status, ['PENDING', 'ABANDONED']),
          sql`${events.updatedAt} < now() - make_interval(secs => ${leaseSeconds})`,
        ),
      )
      .orderBy(asc(events.updatedAt))
      .limit(limit)
      .for('update', { skipLocked: true }),
  );
  const claimed = await db
    .with(stale)
    .update(events)
    .set({ status: 'ABANDONED', claimId, updatedAt: sql`now()` })
    .where(inArray(events.id, db.select({ id: stale.id }).from(stale)))
    .returning({ id: events.id });
  return unfinishedEvents(
    db,
    claimed.map(({ id }) => id),
  );
}

/** Renews the owner's lease before it calls booking; false when it is no longer the owner. */
export async function renewClaim(db: Executor, id: string, claimId: string, status: EventStatus): Promise<boolean> {
  const renewed = await db
    .update(events)
    .set({ updatedAt: sql`now()` })
    .where(and(eq(events.id, id), eq(events.claimId, claimId), eq(events.status, status)))
    .returning({ id: events.id });
  return renewed.length > 0;
}

/** Every stock exists: the event becomes visible. False when this owner lost the event meanwhile. */
export async function activateEvent(db: Executor, id: string, claimId: string): Promise<boolean> {
  const activated = await db
    .update(events)
    .set({ status: 'ACTIVE', claimId: null, updatedAt: sql`now()` })
    .where(and(eq(events.id, id), eq(events.claimId, claimId), eq(events.status, 'PENDING')))
    .returning({ id: events.id });
  return activated.length > 0;
}

/** Its stocks are gone: deletes the event (its ticket types cascade), if this owner still owns it. */
export async function deleteOwnedEvent(
  db: Executor,
  id: string,
  claimId: string,
  status: EventStatus,
): Promise<boolean> {
  const deleted = await db
    .delete(events)
    .where(and(eq(events.id, id), eq(events.claimId, claimId), eq(events.status, status)))
    .returning({ id: events.id });
  return deleted.length > 0;
}

/**
 * The owner gives a PENDING event up without finishing (booking unreachable): a retry with the same key may
 * resume it at once. `updated_at` stays, so the cleanup job still takes it once it has been idle long enough.
 */
export async function releaseClaim(db: Executor, id: string, claimId: string): Promise<void> {
  await db
    .update(events)
    .set({ claimId: null })
    .where(and(eq(events.id, id), eq(events.claimId, claimId), eq(events.status, 'PENDING')));
}
