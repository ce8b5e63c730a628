import { alreadyExists, failedPrecondition } from '@ticket/platform';
import { deleteStockRow, findStock, insertStock, listStocks, lockStock } from '../db/stock-repository.ts';
import { type StockKey, type StockReading, stockNotFound } from '../domain/booking.ts';
import type { BookingContext } from './context.ts';
import { releaseLapsedHoldsIn } from './release-lapsed-holds.ts';

export async function createStock(context: BookingContext, key: StockKey, seatsTotal: number): Promise<StockReading> {
  const created = await insertStock(context.db, key, seatsTotal);
  if (!created) throw alreadyExists(`stock of ticket type ${key.ticketTypeId} of event ${key.eventId}`);
  return created;
}

export async function getStock(context: BookingContext, key: StockKey): Promise<StockReading> {
  const stock = await findStock(context.db, key);
  if (!stock) throw stockNotFound(key);
  return stock;
}

export const getStocks = (context: BookingContext, eventId: string, ticketTypeId?: string): Promise<StockReading[]> =>
  listStocks(context.db, eventId, ticketTypeId);

/**
 * Deletes a stock nobody holds or bought seats of. Lapsed holds do not count: they are expired here
 * first (with their events), as the sweep would have done.
 */
export async function deleteStock(context: BookingContext, key: StockKey): Promise<void> {
  const expiredAny = await context.db.transaction(async (tx) => {
    const stock = await lockStock(tx, key);
    if (!stock) throw stockNotFound(key);
    const expired = await releaseLapsedHoldsIn(tx, context, stock.seatsTotal, stock.id);
    const seatsStillBooked = stock.seatsBooked - expired.reduce((sum, booking) => sum + booking.seats, 0);
    if (seatsStillBooked > 0) {
      throw failedPrecondition(
        `the stock has ${seatsStillBooked} seats held or sold; it can be deleted only when it has none`,
      );
    }
    await deleteStockRow(tx, stock.id);
    return expired.length > 0;
  });
  if (expiredAny) context.eventsCommitted();
}
