import type { Executor } from '@ticket/platform';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { CartLine } from '../domain/order.ts';
import { cartItems } from './schema.ts';

/** Why a cart change was refused, with what the caller needs to hear. */
export type CartRefusal = { overLimit: { seatsInCart: number } } | { otherCurrency: string };

/**
 * Serialises the changes of one user's cart (a transaction-scoped advisory lock in its own two-key space). The
 * statements below check the limit and the currency themselves; the lock makes those checks exact when two changes
 * of one cart touch different lines at once (a row lock only covers the same line).
 */
export async function lockCart(tx: Executor, userId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('checkout.cart'), hashtext(${userId}))`);
}

/**
 * AddToCart in one statement: inserts the line or adds to its quantity (`quantity + excluded.quantity`), only when
 * the cart's seats stay within `maxSeats` and the cart has no line in another currency. Returns the line's new
 * quantity, or undefined when refused.
 */
export async function addToCartLine(
  tx: Executor,
  userId: string,
  line: CartLine,
  maxSeats: number,
): Promise<number | undefined> {
  const rows = await tx.execute<{ quantity: number }>(sql`
    insert into checkout.cart_items
      (user_id, ticket_type_id, event_id, ticket_type_name, unit_price_minor, currency, quantity)
    select ${userId}::text, ${line.ticketTypeId}::uuid, ${line.eventId}::uuid, ${line.ticketTypeName}::text,
      ${line.unitPriceMinor}::bigint, ${line.currency}::text, ${line.quantity}::int
    where (select coalesce(sum(quantity), 0) from checkout.cart_items where user_id = ${userId}) + ${line.quantity}::int
        <= ${maxSeats}::int
      and not exists (select 1 from checkout.cart_items
                      where user_id = ${userId} and ticket_type_id <> ${line.ticketTypeId}
                        and currency <> ${line.currency})
    on conflict (user_id, ticket_type_id) do update set
      quantity = cart_items.quantity + excluded.quantity,
      event_id = excluded.event_id,
      ticket_type_name = excluded.ticket_type_name,
      unit_price_minor = excluded.unit_price_minor,
      currency = excluded.currency,
      updated_at = now()
    returning quantity`);
  return rows[0]?.quantity;
}

/** UpdateCart with quantity > 0: sets the line's quantity, under the same limit and currency rule. */
export async function setCartLine(
  tx: Executor,
  userId: string,
  line: CartLine,
  maxSeats: number,
): Promise<number | undefined> {
  const rows = await tx.execute<{ quantity: number }>(sql`
    insert into checkout.cart_items
      (user_id, ticket_type_id, event_id, ticket_type_name, unit_price_minor, currency, quantity)
    select ${userId}::text, ${line.ticketTypeId}::uuid, ${line.eventId}::uuid, ${line.ticketTypeName}::text,
      ${line.unitPriceMinor}::bigint, ${line.currency}::text, ${line.quantity}::int
    where (select coalesce(sum(quantity), 0) from checkout.cart_items
           where user_id = ${userId} and ticket_type_id <> ${line.ticketTypeId}) + ${line.quantity}::int <= ${maxSeats}::int
      and not exists (select 1 from checkout.cart_items
                      where user_id = ${userId} and ticket_type_id <> ${line.ticketTypeId}
                        and currency <> ${line.currency})
    on conflict (user_id, ticket_type_id) do update set
      quantity = excluded.quantity,
      event_id = excluded.event_id,
      ticket_type_name = excluded.ticket_type_name,
      unit_price_minor = excluded.unit_price_minor,
      currency = excluded.currency,
      updated_at = now()
    returning quantity`);
  return rows[0]?.quantity;
}

/** Why addToCartLine or setCartLine returned nothing (read under the same cart lock). */
export async function cartRefusal(tx: Executor, userId: string, line: CartLine): Promise<CartRefusal> {
  const [row] = await tx.execute<{ seats: number; other_currency: string | null }>(sql`
    select coalesce(sum(quantity), 0)::int as seats,
      (select currency from checkout.cart_items
       where user_id = ${userId} and ticket_type_id <> ${line.ticketTypeId} and currency <> ${line.currency}
       limit 1) as other_currency
    from checkout.cart_items where user_id = ${userId}`);
  if (row?.other_currency) return { otherCurrency: row.other_currency };
  return { overLimit: { seatsInCart: row?.seats ?? 0 } };
}

export async function removeCartLine(tx: Executor, userId: string, ticketTypeId: string): Promise<void> {
  await tx.delete(cartItems).where(and(eq(cartItems.userId, userId), eq(cartItems.ticketTypeId, ticketTypeId)));
}

/** The user's cart lines, oldest first. */
export async function listCart(db: Executor, userId: string): Promise<CartLine[]> {
  return db
    .select({
      ticketTypeId: cartItems.ticketTypeId,
      eventId: cartItems.eventId,
      ticketTypeName: cartItems.ticketTypeName,
      unitPriceMinor: cartItems.unitPriceMinor,
      currency: cartItems.currency,
      quantity: cartItems.quantity,
    })
    .from(cartItems)
    .where(eq(cartItems.userId, userId))
    .orderBy(asc(cartItems.createdAt), asc(cartItems.ticketTypeId));
}

/**
 * Whether the cart still has at least the ordered quantity of every ordered line (under the cart's lock): a
 * concurrent PlaceOrder of the same cart, or an UpdateCart, may have taken lines out since the cart was read.
 */
export async function cartCovers(
  tx: Executor,
  userId: string,
  ordered: readonly { ticketTypeId: string; quantity: number }[],
): Promise<boolean> {
  if (ordered.length === 0) return true;
  const ids = sql`${`{${ordered.map((item) => item.ticketTypeId).join(',')}}`}::uuid[]`;
  const quantities = sql`${`{${ordered.map((item) => item.quantity).join(',')}}`}::int[]`;
  const rows = await tx.execute<{ short: number }>(sql`
    select count(*)::int as short from unnest(${ids}, ${quantities}) as o(ticket_type_id, quantity)
    left join checkout.cart_items c on c.user_id = ${userId} and c.ticket_type_id = o.ticket_type_id
    where c.quantity is null or c.quantity < o.quantity`);
  return rows[0]?.short === 0;
}

/**
 * Takes the ordered quantities out of the cart: lines added to meanwhile keep the difference, lines ordered in
 * full disappear. Two statements over the same unnest, since a line may not pass through quantity 0.
 */
export async function subtractFromCart(
  tx: Executor,
  userId: string,
  ordered: readonly { ticketTypeId: string; quantity: number }[],
): Promise<void> {
  if (ordered.length === 0) return;
  const ids = sql`${`{${ordered.map((item) => item.ticketTypeId).join(',')}}`}::uuid[]`;
  const quantities = sql`${`{${ordered.map((item) => item.quantity).join(',')}}`}::int[]`;
  await tx.execute(sql`
    delete from checkout.cart_items c using unnest(${ids}, ${quantities}) as o(ticket_type_id, quantity)
    where c.user_id = ${userId} and c.ticket_type_id = o.ticket_type_id and c.quantity <= o.quantity`);
  await tx.execute(sql`
    update checkout.cart_items c set quantity = c.quantity - o.quantity, updated_at = now()
    from unnest(${ids}, ${quantities}) as o(ticket_type_id, quantity)
    where c.user_id = ${userId} and c.ticket_type_id = o.ticket_type_id and c.quantity > o.quantity`);
}
