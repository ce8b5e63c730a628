import type { Executor } from '@ticket/platform';
import { and, asc, eq, getTableColumns, sql } from 'drizzle-orm';
import type { Stock, StockKey, StockReading } from '../domain/booking.ts';
import { bookings, stocks } from './schema.ts';

const byKey = (key: StockKey) => and(eq(stocks.eventId, key.eventId), eq(stocks.ticketTypeId, key.ticketTypeId));

/**
 * The seats of the stock's holds past their expiry: the sweep may not have released them yet, but the next
 * hold would, so a reader must see them as free. One row per stock (an aggregate), joined laterally so the
 * stock and its lapsed holds are read in one statement. 'HELD' is a literal so that the partial index on
 * live holds applies even to a generic plan of the prepared statement.
 */
const lapsedHoldsOfStock = (db: Executor) =>
  db
    .select({ seats: sql<number>`coalesce(sum(${bookings.seats}), 0)::int`.as('seats_lapsed') })
    .from(bookings)
    .where(and(eq(bookings.stockId, stocks.id), sql`${bookings.status} = 'HELD'`, sql`${bookings.expiresAt} <= now()`))
    .as('lapsed_holds');

function selectStockReadings(db: Executor) {
  const lapsed = lapsedHoldsOfStock(db);
  return db
    .select({ ...getTableColumns(stocks), seatsLapsed: lapsed.seats })
    .from(stocks)
    .crossJoinLateral(lapsed);
}

/** Inserts the stock; undefined when the (event, ticket type) pair already has one. */
export async function insertStock(db: Executor, key: StockKey, seatsTotal: number): Promise<StockReading | undefined> {
  const [created] = await db
    .insert(stocks)
    .values({ ...key, seatsTotal })
    .onConflictDoNothing({ target: [stocks.eventId, stocks.ticketTypeId] })
    .returning();
  // A new stock has no holds yet.
  return created && { ...created, seatsLapsed: 0 };
}

export async function findStock(db: Executor, key: StockKey): Promise<StockReading | undefined> {
  const [stock] = await selectStockReadings(db).where(byKey(key));
  return stock;
}

/** Locks the stock row for the rest of the transaction: every change of its seats goes through this lock. */
export async function lockStock(tx: Executor, key: StockKey): Promise<Stock | undefined> {
  const [stock] = await tx.select().from(stocks).where(byKey(key)).for('update');
  return stock;
}

export async function listStocks(db: Executor, eventId: string, ticketTypeId?: string): Promise<StockReading[]> {
  const filter = ticketTypeId ? byKey({ eventId, ticketTypeId }) : eq(stocks.eventId, eventId);
  return selectStockReadings(db).where(filter).orderBy(asc(stocks.createdAt), asc(stocks.id));
}

export async function deleteStockRow(tx: Executor, stockId: string): Promise<void> {
  await tx.delete(stocks).where(eq(stocks.id, stockId));
}

/**
 * Gives seats back to their stocks. Rows are locked in id order first, so two transactions that
 * release holds of several stocks (the sweep, a cancellation) cannot deadlock on each other.
 */
export async function returnSeats(tx: Executor, seatsByStock: ReadonlyMap<string, number>): Promise<void> {
  if (seatsByStock.size === 0) return;
  const ids = [...seatsByStock.keys()].sort();
  await tx.execute(sql`select 1 from ${stocks} where ${stocks.id} in ${ids} order by ${stocks.id} for update`);
  const returned = JSON.stringify(ids.map((id) => ({ stock_id: id, seats: seatsByStock.get(id) })));
  await tx.execute(sql`
    update ${stocks} set seats_booked = ${stocks.seatsBooked} - r.seats
    from jsonb_to_recordset(${returned}::jsonb) as r(stock_id uuid, seats int)
    where ${stocks.id} = r.stock_id`);
}
