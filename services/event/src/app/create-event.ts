import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DomainError, invalidField, unavailable } from '@ticket/platform';
import { isForeignKeyViolation, isUniqueViolation } from '../db/errors.ts';
import {
  activateEvent,
  claimPendingEvent,
  deleteOwnedEvent,
  findActiveEvent,
  findEventByIdempotencyKey,
  insertPendingEvent,
  releaseClaim,
  type UnfinishedEvent,
} from '../db/event-repository.ts';
import { type CreateEventCommand, type Event, fingerprintOf, locationNotFound } from '../domain/event.ts';
import type { EventContext } from './context.ts';
import { type Claim, callForEachTicketType, LOST_CLAIM, removeStocks } from './stock-calls.ts';

/** How often a call polls while a concurrent call with the same key is creating the event. */
const WAIT_FIRST_MS = 25;
const WAIT_MAX_MS = 500;

type Start =
  | { kind: 'done'; event: Event }
  | { kind: 'owned'; event: UnfinishedEvent; claim: Claim }
  | { kind: 'busy' };

/**
 * CreateEvent, a saga over two services with no transaction across them:
 * 1. insert the event as PENDING (invisible to reads) with its ticket types, owned by this call;
 * 2. create each ticket type's stock in booking;
 * 3. all created: the event becomes ACTIVE (visible). Any failure: delete the stocks again, then the event.
 * If even that fails (booking down), the event stays PENDING and invisible; a retry with the same key resumes
 * step 2, and the cleanup job finishes the rollback of what nobody resumes.
 *
 * The idempotency key makes the whole call repeatable: an ACTIVE event with the key is the answer; a PENDING one
 * is resumed when nobody is working on it, else this call waits for the call that is. Keys are the organizer's
 * own (`command.organizerId`, the caller): another organizer's event with the same key is never the answer.
 *
 * The saga runs to its end even when the caller cancels: stopping half-way would leave stocks for the cleanup job.
 */
export async function createEvent(
  context: EventContext,
  command: CreateEventCommand,
  signal?: AbortSignal,
): Promise<Event> {
  const fingerprint = fingerprintOf(command);
  // Past the lease, the owner we wait for has lost the event and the next look claims it: waiting longer is useless.
  const waitUntil = Date.now() + context.config.PENDING_EVENT_TIMEOUT_SECONDS * 1_000;
  let wait = WAIT_FIRST_MS;
  for (;;) {
    const start = await startOrResume(context, command, fingerprint);
    if (start.kind === 'done') return start.event;
    if (start.kind === 'owned') return runSaga(context, start.event, start.claim);
    if (Date.now() + wait > waitUntil) throw stillInProgress();
    await sleep(wait, undefined, { signal });
    wait = Math.min(wait * 2, WAIT_MAX_MS);
  }
}

async function startOrResume(context: EventContext, command: CreateEventCommand, fingerprint: string): Promise<Start> {
  const existing = await findEventByIdempotencyKey(context.db, command.organizerId, command.idempotencyKey);
  const claim: Claim = { id: randomUUID(), status: 'PENDING' };
  if (!existing) {
    const inserted = await insertPending(context, command, fingerprint, claim.id);
    // Undefined: a concurrent call with the same key inserted first (and committed); its row decides.
    return inserted ? { kind: 'owned', event: inserted, claim } : startOrResume(context, command, fingerprint);
  }
  if (existing.requestFingerprint !== fingerprint) {
    throw new DomainError(
      'already_exists',
      `idempotency_key ${command.idempotencyKey} was already used by this organizer to create an event with other arguments`,
    );
  }
  switch (existing.status) {
    case 'ACTIVE':
      return { kind: 'done', event: await mustFindActive(context, existing.id) };
    case 'ABANDONED':
      throw unavailable(
        `an earlier CreateEvent with idempotency_key ${command.idempotencyKey} failed and is being rolled back; retry shortly`,
      );
    case 'PENDING': {
      const resumed = await claimPendingEvent(
        context.db,
        existing.id,
        claim.id,
        context.config.PENDING_EVENT_TIMEOUT_SECONDS,
      );
      return resumed ? { kind: 'owned', event: resumed, claim } : { kind: 'busy' };
    }
  }
}

async function insertPending(
  context: EventContext,
  command: CreateEventCommand,
  fingerprint: string,
  claimId: string,
): Promise<UnfinishedEvent | undefined> {
  try {
    return await insertPendingEvent(context.db, command, fingerprint, claimId);
  } catch (error) {
    if (command.locationId !== undefined && isForeignKeyViolation(error, 'events_location_fk')) {
      throw locationNotFound(command.locationId);
    }
    // The request check compares names case-insensitively in JavaScript; Postgres's lower() folds some letters
    // differently ("İ" and "i"), so its unique index is the last word on what counts as the same name.
    if (isUniqueViolation(error, 'ticket_types_event_name_key')) {
      throw invalidField('ticket_types', 'names must differ ignoring case');
    }
    throw error;
  }
}

/** Steps 2 and 3 (or the rollback), by the owner of the PENDING event. */
async function runSaga(context: EventContext, event: UnfinishedEvent, claim: Claim): Promise<Event> {
  const created = await callForEachTicketType(
    context,
    event,
    claim,
    (ticketType) => context.stocks.ensureStock({ eventId: event.id, ticketTypeId: ticketType.id }, ticketType.seats),
    { keepGoing: false },
  );
  if (created.ok) {
    if (await activateEvent(context.db, event.id, claim.id)) return mustFindActive(context, event.id);
    throw lostToAnotherCall();
  }
  if (created.failure === LOST_CLAIM) throw lostToAnotherCall();
  const rolledBack = await compensate(context, event, claim);
  // Booking refused our arguments: the caller's to fix, whether or not the rollback finished.
  if (created.failure.kind === 'invalid_argument') throw created.failure;
  throw rolledBack
    ? unavailable(
        'booking could not create the ticket stocks; nothing was created. Retrying with the same idempotency_key is safe',
      )
    : unavailable(
        'booking is unavailable; the event was not created (it stays invisible until a retry with the same idempotency_key completes it, or it is cleaned up)',
      );
}

/**
 * Undoes step 2: deletes every ticket type's stock (also those whose creation seemed to fail: a call that timed
 * out may still have created its stock), then the event. True when everything is gone. When booking cannot be
 * reached, the event stays PENDING, released so that a retry may resume it at once.
 */
async function compensate(context: EventContext, event: UnfinishedEvent, claim: Claim): Promise<boolean> {
  const removed = await removeStocks(context, event, claim);
  if (removed.ok) {
    await deleteOwnedEvent(context.db, event.id, claim.id, 'PENDING');
    return true;
  }
  if (removed.failure !== LOST_CLAIM) {
    await releaseClaim(context.db, event.id, claim.id);
    context.logger.warn({ eventId: event.id }, 'could not roll back a failed CreateEvent; the cleanup job will');
  }
  return false;
}

async function mustFindActive(context: EventContext, id: string): Promise<Event> {
  const event = await findActiveEvent(context.db, id);
  // ACTIVE events are never deleted, so this is a bug, not a caller's mistake.
  if (!event) throw new Error(`active event ${id} vanished`);
  return event;
}

const stillInProgress = () =>
  unavailable('another call with this idempotency_key is still creating the event; retry shortly');

/** The lease lapsed while this call worked (it took longer than PENDING_EVENT_TIMEOUT_SECONDS): someone else owns it. */
const lostToAnotherCall = () =>
  unavailable('the event is being completed or rolled back by another call; retry with the same idempotency_key');
