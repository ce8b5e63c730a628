import { field } from '@ticket/platform';
import { z } from 'zod';
import type { OrderCursor } from '../db/order-repository.ts';

// What a valid request is, per RPC. parseRequest names every bad field by its proto path.

const userId = field.nonEmptyString(128);
const orderId = field.uuid();

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export const getUserCartRequest = z.object({ userId });

/** AddToCart: 1..maxSeats seats (a single add can never exceed what one order may hold). */
export const addToCartRequest = (maxSeats: number) =>
  z.object({
    userId,
    ticketTypeId: field.uuid(),
    quantity: field.positiveInt32().max(maxSeats, { error: `must be at most ${maxSeats} (seats per order)` }),
  });

/** UpdateCart: 0 removes the line. */
export const updateCartRequest = (maxSeats: number) =>
  z.object({
    userId,
    ticketTypeId: field.uuid(),
    quantity: z
      .number()
      .int({ error: 'must be an integer' })
      .min(0, { error: 'must not be negative' })
      .max(maxSeats, { error: `must be at most ${maxSeats} (seats per order)` }),
  });

export const placeOrderRequest = z.object({
  userId,
  idempotencyKey: field.idempotencyKey(),
  email: z
    .string()
    .trim()
    .min(1, { error: 'is required' })
    .max(254, { error: 'must be at most 254 characters' })
    .pipe(z.email({ error: 'must be an email address' })),
});

export const markOrderAsPaidRequest = z.object({
  userId,
  orderId,
  paymentReference: field.nonEmptyString(256),
  idempotencyKey: field.idempotencyKey(),
});

export const orderRequest = z.object({ userId, orderId });

export const refundOrderRequest = z.object({
  userId,
  orderId,
  ticketCodes: z.array(field.nonEmptyString(64)).max(100, { error: 'at most 100 tickets per refund' }),
  idempotencyKey: field.idempotencyKey(),
});

export const listOrdersRequest = z
  .object({
    userId,
    pageSize: field.pageSize({ fallback: DEFAULT_PAGE_SIZE, max: MAX_PAGE_SIZE }),
    pageToken: z.string().transform((token, context): OrderPageToken | undefined => {
      if (token === '') return undefined;
      const decoded = decodePageToken(token);
      if (!decoded) {
        context.addIssue({ code: 'custom', message: 'is not a page token this service issued' });
        return z.NEVER;
      }
      return decoded;
    }),
  })
  .refine((request) => request.pageToken === undefined || request.pageToken.userId === request.userId, {
    // Paging with another user's token would mix two users' positions: refused, as notification does.
    path: ['pageToken'],
    error: 'was issued for another user_id; use it with the same user_id',
  })
  .transform(({ pageToken, ...request }) => ({ ...request, pageToken: pageToken?.after }));

/** What a page token carries: whose list it pages through, and the last order's keyset position there. */
interface OrderPageToken {
  userId: string;
  after: OrderCursor;
}

/** The token is opaque to clients: base64url of the user and the last order's keyset position. */
export const encodePageToken = (userId: string, cursor: OrderCursor): string =>
  Buffer.from(JSON.stringify([userId, cursor.createdMicros, cursor.id])).toString('base64url');

// Tokens issued before they named the user ([micros, id]) do not match and are refused as malformed.
const pageTokenShape = z.tuple([z.string(), z.string().regex(/^\d{1,19}$/), z.uuid()]);

/**
 * 10000-01-01T00:00:00Z in microseconds since the epoch: no order is created later. A larger position in a forged
 * token would overflow Postgres' bigint or interval arithmetic (an INTERNAL error instead of INVALID_ARGUMENT).
 */
const MAX_CREATED_MICROS = 253_402_300_800_000_000n;

function decodePageToken(token: string): OrderPageToken | undefined {
  try {
    const parsed = pageTokenShape.safeParse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
    if (!parsed.success || BigInt(parsed.data[1]) > MAX_CREATED_MICROS) return undefined;
    const [userId, createdMicros, id] = parsed.data;
    return { userId, after: { createdMicros, id } };
  } catch {
    return undefined;
  }
}
