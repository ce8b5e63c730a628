import { field } from '@ticket/platform';
import { z } from 'zod';
import { decodeEventCursor, decodeLocationCursor } from '../domain/page-token.ts';

// What a valid request is, per RPC. parseRequest names every bad field by its proto path.

/** Ticket types of one event; more is a client bug, and each costs a booking call. */
export const MAX_TICKET_TYPES = 100;
export const PAGE_SIZE = { fallback: 20, max: 100 };

/** A google.protobuf.Timestamp: required, and within its documented range (years 0001 to 9999). */
const timestamp = () =>
  z.date().refine((date) => !Number.isNaN(date.getTime()) && isWithinYears(date, 1, 9999), {
    error: 'must be between 0001-01-01 and 9999-12-31',
  });

const isWithinYears = (date: Date, first: number, last: number): boolean =>
  date.getUTCFullYear() >= first && date.getUTCFullYear() <= last;

const ticketTypeSpec = z.object({
  name: field.nonEmptyString(100),
  price: field.money(),
  seats: field.positiveInt32(),
});

const ticketTypeSpecs = z
  .array(ticketTypeSpec)
  .min(1, { error: 'must have at least one ticket type' })
  .max(MAX_TICKET_TYPES, { error: `must have at most ${MAX_TICKET_TYPES} ticket types` })
  .superRefine((types, context) => {
    // Names tell buyers the types apart, so they are unique per event, ignoring case ("VIP" and "vip").
    const firstByName = new Map<string, number>();
    types.forEach((type, index) => {
      const name = type.name.toLowerCase();
      const first = firstByName.get(name);
      if (first === undefined) firstByName.set(name, index);
      else context.addIssue({ code: 'custom', path: [index, 'name'], message: `repeats ticket_types[${first}].name` });
    });
  });

export const createEventRequest = z
  .object({
    idempotencyKey: field.idempotencyKey(),
    name: field.nonEmptyString(200),
    description: field.optionalText(5_000),
    startsAt: timestamp(),
    endsAt: timestamp(),
    locationId: field.uuid().optional(),
    ticketTypes: ticketTypeSpecs,
    // Unset (undefined): buyers may not refund their own tickets.
    refundableUntil: timestamp().optional(),
  })
  .refine((request) => !isValidDate(request.startsAt) || request.startsAt.getTime() > Date.now(), {
    // Nobody can buy a ticket for what already began; a retried CreateEvent of a past event is refused too.
    path: ['startsAt'],
    error: 'must be in the future',
  })
  .refine(
    // Bad or missing times are reported on their own fields; this compares only two good ones.
    (request) => !isValidDate(request.startsAt) || !isValidDate(request.endsAt) || request.endsAt > request.startsAt,
    {
      path: ['endsAt'],
      error: 'must be after starts_at',
    },
  )
  .refine(
    (request) =>
      !isValidDate(request.refundableUntil) ||
      !isValidDate(request.endsAt) ||
      request.refundableUntil <= request.endsAt,
    {
      path: ['refundableUntil'],
      error: 'must be at most ends_at',
    },
  );

const isValidDate = (value: unknown): value is Date => value instanceof Date && !Number.isNaN(value.getTime());

export const getEventRequest = z.object({ eventId: field.uuid() });

export const getTicketRequest = z.object({ ticketTypeId: field.uuid() });

const malformedToken = 'is not a page token of this list (pass next_page_token of the previous page unchanged)';

export const listEventsRequest = z
  .object({
    pageSize: field.pageSize(PAGE_SIZE),
    pageToken: z.string().transform((token, context) => {
      if (token === '') return undefined;
      const cursor = decodeEventCursor(token);
      if (!cursor) context.addIssue({ code: 'custom', message: malformedToken });
      return cursor;
    }),
    locationId: field.uuid().optional(),
  })
  .refine(
    (request) => request.pageToken === undefined || request.pageToken.locationId === (request.locationId ?? null),
    {
      path: ['pageToken'],
      error: 'was issued for another location_id filter; use it with the same location_id',
    },
  );

export const createLocationRequest = z.object({
  name: field.nonEmptyString(200),
  address: field.optionalText(500),
  city: field.optionalText(200),
  // Optional: '' (unset) is stored as unknown; anything else must be a real code.
  countryCode: z.union([z.literal(''), field.countryCode()], {
    error: 'must be an ISO 3166-1 alpha-2 country code in upper case, e.g. DE',
  }),
});

export const listLocationsRequest = z.object({
  pageSize: field.pageSize(PAGE_SIZE),
  pageToken: z.string().transform((token, context) => {
    if (token === '') return undefined;
    const cursor = decodeLocationCursor(token);
    if (!cursor) context.addIssue({ code: 'custom', message: malformedToken });
    return cursor;
  }),
});
