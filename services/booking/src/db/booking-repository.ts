import type { Executor } from '@ticket/platform';
import { and, asc, eq, inArray, or, sql } from 'drizzle-orm';
import type { Booking, BookingStatus, HoldRequest, PayableCheck, Stock } from '../domain/booking.ts';
import { bookings, stocks } from './schema.ts';

/** Booking columns plus the stock's natural key, which every caller of the API knows the stock by. */
const bookingWithStockKey = {
  id: bookings.id,
  stockId: bookings.stockId,
  eventId: stocks.eventId,
  ticketTypeId: stocks.ticketTypeId,
  orderId: bookings.orderId,
  userId: bookings.userId,
  seats: bookings.seats,
  status: bookings.status,
  idempotencyKey: bookings.idempotencyKey,
  createdAt: bookings.createdAt,
  expiresAt: bookings.expiresAt,
  seatsReturned: bookings.seatsReturned,
};

function selectBookings(db: Executor) {
  return db.select(bookingWithStockKey).from(bookings).innerJoin(stocks, eq(stocks.id, bookings.stockId));
}

/** Earlier holds that answer any of these requests: by idempotency key anywhere, or by order on this stock. */
export async function findHoldsAnswering(
  db: Executor,
  stockId: string,
  requests: readonly HoldRequest[],
): Promise<Booking[]> {
  return selectBookings(db).where(
    or(
      inArray(
        bookings.idempotencyKey,
        requests.map((request) => request.idempotencyKey),
      ),
      and(
        eq(bookings.stockId, stockId),
        inArray(
          bookings.orderId,
          requests.map((request) => request.orderId),
        ),
      ),
    ),
  );
}

/**
 * Inserts the holds and adds their seats to the stock in one statement, so the stock row always equals
 * its holds. A hold whose order or key was taken meanwhile (another replica) is skipped, and its seats
 * are not counted; the caller looks it up. Expiry is the database's clock plus the TTL.
 */
export async function insertHolds(
  tx: Executor,
  stock: Stock,
  requests: readonly HoldRequest[],
  ttlSeconds: number,
): Promise<Booking[]> {
  if (requests.length === 0) return [];
  const rows = JSON.stringify(
    requests.map((request) => ({
      order_id: request.orderId,
      user_id: request.userId,
      seats: request.seats,
      idempotency_key: request.idempotencyKey,
    })),
  );
  const inserted = await tx.execute<InsertedHold>(sql`
    with inserted as (
      insert into ${bookings} (stock_id, order_id, user_id, seats, idempotency_key, expires_at)
      select ${stock.id}, r.order_id, r.user_id, r.seats, r.idempotency_key, now() + make_interval(secs => ${ttlSeconds})
      from jsonb_to_recordset(${rows}::jsonb) as r(order_id uuid, user_id text, seats int, idempotency_key text)
      on conflict do nothing
      returning id, order_id, user_id, seats, idempotency_key, created_at, expires_at
    ), counted as (
      update ${stocks} set seats_booked = ${stocks.seatsBooked} + (select coalesce(sum(seats), 0) from inserted)
      where ${stocks.id} = ${stock.id}
    )
    select * from inserted`);
  return inserted.map((row) => ({
    id: row.id,
    stockId: stock.id,
    eventId: stock.eventId,
    ticketTypeId: stock.ticketTypeId,
    orderId: row.order_id,
    userId: row.user_id,
    seats: row.seats,
    status: 'HELD',
    idempotencyKey: row.idempotency_key,
    createdAt: new Date(row.created_at),
    expiresAt: new Date(row.expires_at),
    seatsReturned: 0,
  }));
}

interface InsertedHold extends Record<string, unknown> {
  id: string;
  order_id: string;
  user_id: string;
  seats: number;
  idempotency_key: string;
  created_at: string;
  expires_at: string;
}

/**
 * Ends the live holds past their expiry of the orders of the `holdLimit` earliest lapsed holds (all of an
 * order's lapsed holds together, so each order gets one event per batch: at least `holdLimit` holds when
 * that many are lapsed), skipping rows another transaction holds (a payment in progress, another sweeper):
 * set-based, and safe with several replicas. Returns what it ended; the caller gives the seats back to the
 * stocks in the same transaction.
 */
export async function endLapsedHolds(tx: Executor, holdLimit: number, stockId?: string): Promise<Booking[]> {
  const lapsed = and(
    eq(bookings.status, 'HELD'),
    sql`${bookings.expiresAt} <= now()`,
    stockId ? eq(bookings.stockId, stockId) : undefined,
  );
  // The orders of the earliest lapsed holds, in expiry order, so that Postgres reads them through the partial index
  // of live holds by expiry. `select distinct order_id … limit` walked the (order_id, stock_id) index over every
  // booking instead, live or ended, until it had found enough lapsed ones: with 10 million live holds a batch of
  // 1,000 took 15 s (make bench-sweep).
  const dueOrders = tx
    .select({ orderId: bookings.orderId })
    .from(bookings)
    .where(lapsed)
    .orderBy(bookings.expiresAt)
    .limit(holdLimit);
  // A CTE, so the locking subquery runs exactly once.
  const due = tx.$with('due').as(
    tx
      .select({ id: bookings.id })
      .from(bookings)
      .where(and(lapsed, inArray(bookings.orderId, dueOrders)))
      .for('update', { skipLocked: true }),
  );
  return tx
    .with(due)
    .update(bookings)
    .set({ status: 'EXPIRED', endedAt: sql`now()` })
    .from(stocks)
    .where(and(eq(stocks.id, bookings.stockId), inArray(bookings.id, tx.select({ id: due.id }).from(due))))
    .returning(bookingWithStockKey);
}

/** Releases the named live holds of one order, and only those. */
export async function releaseOrderHolds(
  tx: Executor,
  orderId: string,
  bookingIds: readonly string[],
): Promise<Booking[]> {
  return tx
    .update(bookings)
    .set({ status: 'RELEASED', endedAt: sql`now()` })
    .from(stocks)
    .where(
      and(
        eq(stocks.id, bookings.stockId),
        eq(bookings.orderId, orderId),
        inArray(bookings.id, [...bookingIds]),
        eq(bookings.status, 'HELD'),
      ),
    )
    .returning(bookingWithStockKey);
}

/**
 * The order's bookings, locked: payment decides on them and no sweep or cancel changes them meanwhile.
 * Only booking rows are locked (the stock keys come from scalar subqueries): the hot stock row stays
 * free for the hold batches.
 */
export async function lockOrderBookings(tx: Executor, orderId: string): Promise<PayableCheck[]> {
  const stockColumn = (column: typeof stocks.eventId | typeof stocks.ticketTypeId) =>
    sql<string>`(select ${column} from ${stocks} where ${stocks.id} = ${bookings.stockId})`;
  return tx
    .select({
      ...bookingWithStockKey,
      eventId: stockColumn(stocks.eventId),
      ticketTypeId: stockColumn(stocks.ticketTypeId),
      lapsed: sql<boolean>`${bookings.expiresAt} <= now()`,
    })
    .from(bookings)
    .where(eq(bookings.orderId, orderId))
    .orderBy(asc(bookings.id))
    .for('update');
}

export async function markOrderSold(tx: Executor, orderId: string): Promise<void> {
  await tx
    .update(bookings)
    .set({ status: 'SOLD', endedAt: sql`now()` })
    .where(and(eq(bookings.orderId, orderId), eq(bookings.status, 'HELD')));
}

export async function listOrderBookings(
  db: Executor,
  orderId: string,
  statuses: readonly BookingStatus[],
): Promise<Booking[]> {
  return selectBookings(db)
    .where(and(eq(bookings.orderId, orderId), inArray(bookings.status, [...statuses])))
    .orderBy(asc(bookings.createdAt), asc(bookings.id));
}

/**
 * Adds returned seats to sold bookings, all in one statement. The CHECK constraints refuse more than a booking
 * sold, or a booking that is not SOLD, whatever the caller computed.
 */
export async function addReturnedSeats(tx: Executor, perBooking: ReadonlyMap<string, number>): Promise<void> {
  if (perBooking.size === 0) return;
  const returned = JSON.stringify([...perBooking].map(([id, seats]) => ({ id, seats })));
  await tx.execute(sql`
    update ${bookings} set seats_returned = ${bookings.seatsReturned} + r.seats
    from jsonb_to_recordset(${returned}::jsonb) as r(id uuid, seats int)
    where ${bookings.id} = r.id`);
}

/** Seats of the ended holds, per stock: what goes back into stock. */
export function seatsPerStock(ended: readonly Booking[]): Map<string, number> {
  const perStock = new Map<string, number>();
  for (const booking of ended) perStock.set(booking.stockId, (perStock.get(booking.stockId) ?? 0) + booking.seats);
  return perStock;
}
