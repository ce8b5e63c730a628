import { failedPrecondition, notFound, resourceExhausted } from '@ticket/platform';

// Pure domain types and rules of stock and holds; no I/O here.

export type BookingStatus = 'HELD' | 'SOLD' | 'RELEASED' | 'EXPIRED';

export interface StockKey {
  eventId: string;
  ticketTypeId: string;
}

export interface Stock extends StockKey {
  id: string;
  seatsTotal: number;
  seatsBooked: number;
  createdAt: Date;
}

/**
 * A stock as read for callers (GetStock, GetStocks): with the seats of holds that are past their expiry
 * but not yet released by the sweep. They still count in `seatsBooked`, yet the next buyer gets them.
 */
export interface StockReading extends Stock {
  seatsLapsed: number;
}

export interface Booking {
  id: string;
  stockId: string;
  eventId: string;
  ticketTypeId: string;
  orderId: string;
  userId: string;
  seats: number;
  status: BookingStatus;
  idempotencyKey: string;
  createdAt: Date;
  expiresAt: Date;
  /** Of a SOLD booking: seats a refund put back on sale (0 <= seatsReturned <= seats); 0 otherwise. */
  seatsReturned: number;
}

export interface HoldRequest extends StockKey {
  orderId: string;
  userId: string;
  seats: number;
  idempotencyKey: string;
}

export const seatsAvailable = (stock: Pick<Stock, 'seatsTotal' | 'seatsBooked'>): number =>
  stock.seatsTotal - stock.seatsBooked;

/** What a buyer can hold now: lapsed holds do not block a hold (it releases them), so they count as free. */
export const seatsOnSale = (stock: Pick<StockReading, 'seatsTotal' | 'seatsBooked' | 'seatsLapsed'>): number =>
  seatsAvailable(stock) + stock.seatsLapsed;

/**
 * First come, first served: takes requests in arrival order while they fit. A later, smaller request
 * may still fit after a larger one was refused, so no seat stays idle that someone asked for.
 */
export function fitHolds<Request extends { seats: number }>(
  available: number,
  requests: readonly Request[],
): { granted: Request[]; refused: Request[]; left: number } {
  const granted: Request[] = [];
  const refused: Request[] = [];
  let left = available;
  for (const request of requests) {
    if (request.seats <= left) {
      granted.push(request);
      left -= request.seats;
    } else {
      refused.push(request);
    }
  }
  return { granted, refused, left };
}

/**
 * Whether an earlier hold answers a retried request. Same key and same arguments: it is the same call.
 * Same order and stock under another key: the order already holds this stock, so that hold is the answer.
 */
export function sameHold(existing: Booking, request: HoldRequest): boolean {
  return existing.orderId === request.orderId && existing.seats === request.seats && existing.userId === request.userId;
}

export const stockNotFound = (key: StockKey) =>
  notFound(`stock of ticket type ${key.ticketTypeId} of event ${key.eventId}`);

export const notEnoughSeats = (asked: number, left: number) =>
  resourceExhausted(`not enough seats: asked for ${asked}, ${left} left`);

/** A booking as payment sees it: `lapsed` is true when its expiry passed by the database's clock. */
export interface PayableCheck extends Booking {
  lapsed: boolean;
}

/** Why an order cannot be paid, or undefined when all its holds are live (or it is already paid). */
export function unpayableReason(bookings: readonly PayableCheck[]): string | undefined {
  if (bookings.every((booking) => booking.status === 'SOLD')) return undefined;
  const ended = bookings.find((booking) => booking.status === 'EXPIRED' || booking.status === 'RELEASED');
  if (ended) return `hold ${ended.id} is ${ended.status.toLowerCase()}`;
  const lapsed = bookings.find((booking) => booking.status === 'HELD' && booking.lapsed);
  if (lapsed) return `hold ${lapsed.id} expired at ${lapsed.expiresAt.toISOString()}`;
  return undefined;
}

export const orderNotPayable = (reason: string) => failedPrecondition(`the order cannot be paid: ${reason}`);
