import { z } from 'zod';

// Opaque keyset page tokens: base64url of the sort key of the last row returned. The client cannot see
// or edit what is inside; the server decodes and checks it. A token names its list (and, for events, the
// location filter it was issued for), so a token of one list cannot be replayed against another.

export interface EventCursor {
  startsAt: Date;
  id: string;
  /** The location filter of the call that issued the token; null when unfiltered. */
  locationId: string | null;
}

export interface LocationCursor {
  name: string;
  id: string;
}

const eventToken = z.object({
  k: z.literal('events'),
  s: z.iso.datetime(),
  i: z.uuid(),
  l: z.uuid().nullable(),
});

// A name with NUL was never stored, so no token of ours holds one; the database would refuse it as an error.
const locationToken = z.object({
  k: z.literal('locations'),
  n: z.string().refine((name) => !name.includes('\u0000')),
  i: z.uuid(),
});

export function encodeEventCursor(cursor: EventCursor): string {
  return encode({ k: 'events', s: cursor.startsAt.toISOString(), i: cursor.id, l: cursor.locationId });
}

/** The cursor in the token, or undefined when it is not a token this service issued for ListEvents. */
export function decodeEventCursor(token: string): EventCursor | undefined {
  const parsed = eventToken.safeParse(decode(token));
  if (!parsed.success) return undefined;
  return { startsAt: new Date(parsed.data.s), id: parsed.data.i, locationId: parsed.data.l };
}

export function encodeLocationCursor(cursor: LocationCursor): string {
  return encode({ k: 'locations', n: cursor.name, i: cursor.id });
}

/** The cursor in the token, or undefined when it is not a token this service issued for ListLocations. */
export function decodeLocationCursor(token: string): LocationCursor | undefined {
  const parsed = locationToken.safeParse(decode(token));
  return parsed.success ? { name: parsed.data.n, id: parsed.data.i } : undefined;
}

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function decode(token: string): unknown {
  // Buffer.from ignores characters outside the alphabet; refuse them instead of decoding something else.
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  try {
    return JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}
