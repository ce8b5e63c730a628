import { createHash } from 'node:crypto';
import { type Caller, isAdmin, isOwnerOrAdmin, notFound, permissionDenied } from '@ticket/platform';

// Pure types and rules of the catalogue; no I/O here.

export type EventStatus = 'PENDING' | 'ACTIVE' | 'ABANDONED';

export interface Money {
  amountMinor: number;
  /** ISO 4217. Ticket types of one event may use different currencies. */
  currency: string;
}

export interface Location {
  id: string;
  name: string;
  address: string;
  city: string;
  countryCode: string;
  createdAt: Date;
}

export interface TicketType {
  id: string;
  eventId: string;
  name: string;
  price: Money;
  seats: number;
}

export interface Event {
  id: string;
  name: string;
  description: string;
  startsAt: Date;
  endsAt: Date;
  location: Location | undefined;
  ticketTypes: TicketType[];
  createdAt: Date;
  /** Who created and owns the event; undefined for events created before owners were recorded. */
  organizerId: string | undefined;
  /** Until when a buyer may refund their own tickets; undefined: never (the organizer and admins always may). */
  refundableUntil: Date | undefined;
}

export interface TicketTypeSpec {
  name: string;
  price: Money;
  seats: number;
}

/** A validated CreateEvent request, and who made it. */
export interface CreateEventCommand {
  /** The caller, who becomes the event's owner; its idempotency keys are its own. */
  organizerId: string;
  idempotencyKey: string;
  name: string;
  description: string;
  startsAt: Date;
  endsAt: Date;
  locationId?: string | undefined;
  ticketTypes: TicketTypeSpec[];
  /** At most endsAt; undefined: buyers may not refund their own tickets. */
  refundableUntil?: Date | undefined;
}

export interface NewLocation {
  name: string;
  address: string;
  city: string;
  countryCode: string;
}

/**
 * What makes two CreateEvent calls of one organizer "the same call": every argument but the key (and the
 * organizer, which the key is looked up under), after validation
 * (trimmed names, lower-case ids), in a fixed order. Stored with the event, so a retry with the same key
 * and other arguments is told apart from a genuine retry.
 */
export function fingerprintOf(command: CreateEventCommand): string {
  const canonical = JSON.stringify([
    command.name,
    command.description,
    command.startsAt.toISOString(),
    command.endsAt.toISOString(),
    command.locationId ?? null,
    command.ticketTypes.map((type) => [type.name, type.price.amountMinor, type.price.currency, type.seats]),
    // Only when set: a retry of a call made before refund windows existed keeps the fingerprint it was stored with.
    ...(command.refundableUntil ? [{ refundableUntil: command.refundableUntil.toISOString() }] : []),
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * Whether the caller manages the event: its organizer, or an admin. Only they see who the organizer is, and only
 * they may change the event. An event with no recorded organizer is managed by admins alone.
 */
export const canManageEvent = (caller: Caller, event: Pick<Event, 'organizerId'>): boolean =>
  event.organizerId === undefined ? isAdmin(caller) : isOwnerOrAdmin(caller, event.organizerId);

/**
 * The guard of every later change to an event (updating, cancelling it): its organizer's or an admin's. Another
 * organizer gets PERMISSION_DENIED, not NOT_FOUND: events are public, so their existence is no secret.
 */
export function requireEventManager(caller: Caller, event: Pick<Event, 'id' | 'organizerId'>): void {
  if (!canManageEvent(caller, event)) {
    throw permissionDenied(`only the organizer of event ${event.id} or an admin may change it`);
  }
}

export const eventNotFound = (id: string) => notFound(`event ${id}`);
export const locationNotFound = (id: string) => notFound(`location ${id}`);
export const ticketTypeNotFound = (id: string) => notFound(`ticket type ${id}`);
