import type { Executor } from '@ticket/platform';
import { and, eq } from 'drizzle-orm';
import { seatReturns } from './schema.ts';

/** The fingerprint of the order's return made with `idempotencyKey`, or undefined when there is none. */
export async function findSeatReturn(
  db: Executor,
  orderId: string,
  idempotencyKey: string,
): Promise<string | undefined> {
  const [row] = await db
    .select({ requestFingerprint: seatReturns.requestFingerprint })
    .from(seatReturns)
    .where(and(eq(seatReturns.orderId, orderId), eq(seatReturns.idempotencyKey, idempotencyKey)));
  return row?.requestFingerprint;
}

/** Records a return; false when the order already has one with this key (its primary key is the last word). */
export async function insertSeatReturn(
  tx: Executor,
  orderId: string,
  idempotencyKey: string,
  requestFingerprint: string,
): Promise<boolean> {
  const inserted = await tx
    .insert(seatReturns)
    .values({ orderId, idempotencyKey, requestFingerprint })
    .onConflictDoNothing()
    .returning({ orderId: seatReturns.orderId });
  return inserted.length > 0;
}
