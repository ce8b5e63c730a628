import { z } from 'zod';

// Opaque keyset page tokens: base64url of the sort key of the last notification returned, and the user whose list
// it belongs to, so a token of one user's list is refused on another's.

export interface NotificationCursor {
  userId: string;
  /** created_at to the microsecond, ISO 8601 in UTC (`2026-11-23T11:07:00.123456Z`). */
  createdAt: string;
  id: string;
}

const token = z.object({
  k: z.literal('notifications'),
  u: z.string(),
  // A real instant, not only its shape: the database would refuse 2026-13-45 as an internal error.
  c: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/)
    .refine((text) => isRealInstant(text)),
  i: z.uuid(),
});

export function encodeCursor(cursor: NotificationCursor): string {
  const payload: z.infer<typeof token> = { k: 'notifications', u: cursor.userId, c: cursor.createdAt, i: cursor.id };
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

/** The cursor in the token, or undefined when it is not a token this service issued. */
export function decodeCursor(text: string): NotificationCursor | undefined {
  // Buffer.from ignores characters outside the alphabet; refuse them instead of decoding something else.
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = token.safeParse(json);
  return parsed.success ? { userId: parsed.data.u, createdAt: parsed.data.c, id: parsed.data.i } : undefined;
}

/** True when the microsecond timestamp names a real instant (month 1-12, day within the month, 23:59:59 at most). */
function isRealInstant(text: string): boolean {
  const millis = `${text.slice(0, 23)}Z`;
  const date = new Date(millis);
  return !Number.isNaN(date.getTime()) && date.toISOString() === millis;
}
