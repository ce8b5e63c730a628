import { type DomainError, failedPrecondition } from '@ticket/platform';
import {
  addToCartLine,
  type CartRefusal,
  cartRefusal,
  listCart,
  lockCart,
  removeCartLine,
  setCartLine,
} from '../db/cart-repository.ts';
import type { CartLine } from '../domain/order.ts';
import type { CheckoutContext } from './context.ts';

/** GetUserCart: the stored lines, with the name and price the event service gave when each was last added or set. */
export function getUserCart(context: CheckoutContext, userId: string): Promise<CartLine[]> {
  return listCart(context.db, userId);
}

export interface CartChange {
  userId: string;
  ticketTypeId: string;
  quantity: number;
}

/**
 * AddToCart: the ticket type must exist (event service), then one statement adds to the line, refused when the
 * cart would exceed MAX_SEATS_PER_ORDER or mix currencies. Two concurrent adds of the same line both count.
 *
 * The lock, the add and the read of the cart are sent together, without waiting for each answer (every buyer of a
 * flash sale adds to a cart: one round trip instead of three). The transaction's connection runs them in the order
 * sent, each statement with its own snapshot, so the add runs under the lock and sees every change committed before
 * it, and the read sees the add. They are sent in the order they are started below: each goes through the same
 * steps of drizzle and postgres.js before it is written.
 */
export async function addToCart(context: CheckoutContext, change: CartChange, signal?: AbortSignal) {
  const line = await currentLine(context, change, signal);
  const maxSeats = context.config.MAX_SEATS_PER_ORDER;
  return context.db.transaction(async (tx) => {
    const [, quantity, cart] = await Promise.all([
      lockCart(tx, change.userId),
      addToCartLine(tx, change.userId, line, maxSeats),
      listCart(tx, change.userId),
    ]);
    if (quantity === undefined) throw refusedChange(await cartRefusal(tx, change.userId, line), line, maxSeats, 0);
    return cart;
  });
}

/** UpdateCart: sets the caller's line to `quantity` (0 removes it); safe to repeat. */
export async function updateCart(context: CheckoutContext, change: CartChange, signal?: AbortSignal) {
  if (change.quantity === 0) {
    await context.db.transaction(async (tx) => {
      await lockCart(tx, change.userId);
      await removeCartLine(tx, change.userId, change.ticketTypeId);
    });
    return listCart(context.db, change.userId);
  }
  const line = await currentLine(context, change, signal);
  await context.db.transaction(async (tx) => {
    await lockCart(tx, change.userId);
    const quantity = await setCartLine(tx, change.userId, line, context.config.MAX_SEATS_PER_ORDER);
    if (quantity === undefined) {
      const refusal = await cartRefusal(tx, change.userId, line);
      const existing = (await listCart(tx, change.userId)).find((l) => l.ticketTypeId === line.ticketTypeId);
      throw refusedChange(refusal, line, context.config.MAX_SEATS_PER_ORDER, existing?.quantity ?? 0);
    }
  });
  return listCart(context.db, change.userId);
}

/** The line as the event service describes the ticket type now (NOT_FOUND when it does not exist). */
async function currentLine(context: CheckoutContext, change: CartChange, signal?: AbortSignal): Promise<CartLine> {
  const ticketType = await context.catalog.getTicketType(change.ticketTypeId, signal);
  return {
    ticketTypeId: ticketType.id,
    eventId: ticketType.eventId,
    ticketTypeName: ticketType.name,
    unitPriceMinor: ticketType.priceMinor,
    currency: ticketType.currency,
    quantity: change.quantity,
  };
}

/** `replaced`: seats of this line that the change replaces (UpdateCart) rather than adds to (AddToCart: 0). */
function refusedChange(refusal: CartRefusal, line: CartLine, maxSeats: number, replaced: number): DomainError {
  if ('otherCurrency' in refusal) {
    return failedPrecondition(
      `ticket type ${line.ticketTypeId} is priced in ${line.currency} but the cart is in ${refusal.otherCurrency}; ` +
        'an order has one currency',
    );
  }
  const wouldHold = refusal.overLimit.seatsInCart - replaced + line.quantity;
  return failedPrecondition(
    `quantity: the cart would hold ${wouldHold} seats, more than the ${maxSeats} one order may have`,
  );
}
