import { createHash } from 'node:crypto';
import { notFound } from '@ticket/platform';

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
}

export interface TicketTypeSpec {
  name: string;
  price: Money;
  seats: number;
}

/** A validated CreateEvent request. */
export interface CreateEventCommand {
  idempotencyKey: string;
  name: string;
  description: string;
  startsAt: Date;
  endsAt: Date;
  locationId?: string | undefined;
  ticketTypes: TicketTypeSpec[];
}

export interface NewLocation {
  name: string;
  address: string;
  city: string;
  countryCode: string;
}

/**
 * What makes two CreateEvent calls "the same call": every argument but the key, after validation
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
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

export const eventNotFound = (id: string) => notFound(`event ${id}`);
export const locationNotFound = (id: string) => notFound(`location ${id}`);
export const ticketTypeNotFound = (id: string) => notFound(`ticket type ${id}`);
