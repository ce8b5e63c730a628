import type { Database, Executor } from '@ticket/platform';
import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Order, OrderItem, OrderStatus, Ticket } from '../domain/order.ts';
import { latestPayments, refundsOf } from './payment-repository.ts';
import { orderItems, orders, paymentAttempts, tickets } from './schema.ts';

type OrderRow = typeof orders.$inferSelect;

export type NewOrder = Omit<Order, 'createdAt' | 'updatedAt' | 'tickets' | 'paidAt' | 'payment' | 'refunds'>;

/**
 * Inserts the order with its items unless an order with its id exists (a repeated or concurrent PlaceOrder):
 * returns the order as stored when this call created it (a new order has no tickets, payment or refunds yet, so
 * nothing needs reading back), undefined when it existed.
 */
export async function insertOrder(tx: Executor, order: NewOrder): Promise<Order | undefined> {
  const { items, ...row } = order;
  const [inserted] = await tx.insert(orders).values(row).onConflictDoNothing({ target: orders.id }).returning();
  if (!inserted) return undefined;
  await tx.insert(orderItems).values(items.map((item, line) => ({ ...item, orderId: order.id, line })));
  return { ...orderOf(inserted), items, tickets: [], payment: null, refunds: [] };
}

/** An order row's own columns, as the domain names them (the row's bookkeeping left out). */
const orderOf = ({ lastCheckedAt: _, ...row }: OrderRow): Omit<Order, 'items' | 'tickets' | 'payment' | 'refunds'> =>
  row;

export interface Transition {
  status: 'PAID' | 'CANCELLED' | 'EXPIRED' | 'FAILED';
  paymentReference?: string;
  paymentIdempotencyKey?: string;
  refundPaymentReference?: string;
}

/**
 * The one way an order changes: CREATED → `status`, in one conditional statement, so of two racing transitions
 * exactly one matches the row. Returns false when the order was no longer CREATED.
 */
export async function transitionOrder(tx: Executor, orderId: string, transition: Transition): Promise<boolean> {
  const changed = await tx
    .update(orders)
    .set({
      status: transition.status,
      updatedAt: sql`now()`,
      ...(transition.status === 'PAID'
        ? {
            paidAt: sql`now()`,
            paymentReference: transition.paymentReference ?? null,
            paymentIdempotencyKey: transition.paymentIdempotencyKey ?? null,
          }
        : {}),
      ...(transition.refundPaymentReference ? { refundPaymentReference: transition.refundPaymentReference } : {}),
    })
    .where(and(eq(orders.id, orderId), eq(orders.status, 'CREATED')))
    .returning({ id: orders.id });
  return changed.length > 0;
}

export async function insertTickets(tx: Executor, orderId: string, issued: readonly Ticket[]): Promise<void> {
  if (issued.length === 0) return;
  await tx
    .insert(tickets)
    .values(issued.map(({ code, eventId, ticketTypeId }, seq) => ({ code, eventId, ticketTypeId, orderId, seq })));
}

/**
 * A paid order some of whose tickets were refunded: PAID or PARTIALLY_REFUNDED → `status`, one conditional
 * statement. Returns false when the order was not in either.
 */
export async function markOrderRefunded(
  tx: Executor,
  orderId: string,
  status: 'REFUNDED' | 'PARTIALLY_REFUNDED',
): Promise<boolean> {
  const changed = await tx
    .update(orders)
    .set({ status, updatedAt: sql`now()` })
    .where(and(eq(orders.id, orderId), inArray(orders.status, ['PAID', 'PARTIALLY_REFUNDED'])))
    .returning({ id: orders.id });
  return changed.length > 0;
}

/** One order with its items and tickets (three queries), or undefined. */
export async function findOrder(db: Executor, orderId: string): Promise<Order | undefined> {
  const rows = await db.select().from(orders).where(eq(orders.id, orderId));
  const [order] = await withItemsAndTickets(db, rows);
  return order;
}

/** Items, tickets, payments and refunds of many orders at once: one query each, never one per order. */
async function withItemsAndTickets(db: Executor, rows: readonly OrderRow[]): Promise<Order[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.id);
  const [itemRows, ticketRows, paymentsByOrder, refundsByOrder] = await Promise.all([
    db
      .select()
      .from(orderItems)
      .where(inArray(orderItems.orderId, ids))
      .orderBy(asc(orderItems.orderId), asc(orderItems.line)),
    db.select().from(tickets).where(inArray(tickets.orderId, ids)).orderBy(asc(tickets.orderId), asc(tickets.seq)),
    latestPayments(db, ids),
    refundsOf(db, ids),
  ]);
  const itemsByOrder = Map.groupBy(itemRows, (item) => item.orderId);
  const ticketsByOrder = Map.groupBy(ticketRows, (ticket) => ticket.orderId);
  return rows.map((row) => ({
    ...orderOf(row),
    items: (itemsByOrder.get(row.id) ?? []).map(({ orderId: _, line: __, ...item }): OrderItem => item),
    tickets: (ticketsByOrder.get(row.id) ?? []).map(({ code, eventId, ticketTypeId, voidedAt }) => ({
      code,
      eventId,
      ticketTypeId,
      voided: voidedAt !== null,
    })),
    payment: paymentsByOrder.get(row.id) ?? null,
    refunds: refundsByOrder.get(row.id) ?? [],
  }));
}

/** Whether any of `bookingIds` is the booking (hold) of one of the order's items. */
export async function ownsAnyBooking(db: Executor, orderId: string, bookingIds: readonly string[]): Promise<boolean> {
  if (bookingIds.length === 0) return false;
  const rows = await db
    .select({ orderId: orderItems.orderId })
    .from(orderItems)
    .where(and(eq(orderItems.orderId, orderId), inArray(orderItems.bookingId, [...bookingIds])))
    .limit(1);
  return rows.length > 0;
}

/** Keyset position in a user's newest-first list: created_at in microseconds (exact, unlike a JS Date) and id. */
export interface OrderCursor {
  createdMicros: string;
  id: string;
}

/** A page of the user's orders, newest first (created_at desc, id desc), and the cursor after its last one. */
export async function listOrdersPage(
  db: Executor,
  userId: string,
  pageSize: number,
  after: OrderCursor | undefined,
): Promise<{ orders: Order[]; next: OrderCursor | undefined }> {
  const createdMicros = sql<string>`(extract(epoch from ${orders.createdAt}) * 1000000)::bigint::text`;
  const afterCursor = after
    ? sql`(${orders.createdAt}, ${orders.id}) <
          (timestamptz 'epoch' + ${after.createdMicros}::bigint * interval '1 microsecond', ${after.id}::uuid)`
    : undefined;
  const rows = await db
    .select({ order: orders, createdMicros })
    .from(orders)
    .where(and(eq(orders.userId, userId), afterCursor))
    .orderBy(desc(orders.createdAt), desc(orders.id))
    .limit(pageSize + 1);
  const page = rows.slice(0, pageSize);
  const last = page.at(-1);
  const next = rows.length > pageSize && last ? { createdMicros: last.createdMicros, id: last.order.id } : undefined;
  return {
    orders: await withItemsAndTickets(
      db,
      page.map((row) => row.order),
    ),
    next,
  };
}

/**
 * Records a payment before booking is asked to sell, while the order is CREATED: returns the payment reference
 * recorded under this key (the given one, or an earlier call's), or undefined when the order is no longer CREATED.
 * The order row is share-locked meanwhile, so a transition that ends the order (an exclusive row lock) either comes
 * after this record and sees it (it then names the payment as owed back), or before, and nothing is recorded.
 */
export async function recordPaymentAttempt(
  db: Database<Record<string, unknown>>,
  attempt: { orderId: string; idempotencyKey: string; paymentReference: string },
): Promise<string | undefined> {
  return db.transaction(async (tx) => {
    const [created] = await tx
      .select({ id: orders.id })
      .from(orders)
      .where(and(eq(orders.id, attempt.orderId), eq(orders.status, 'CREATED')))
      .for('share');
    if (!created) return undefined;
    const { orderId, idempotencyKey, paymentReference } = attempt;
    await tx.insert(paymentAttempts).values({ orderId, idempotencyKey, paymentReference }).onConflictDoNothing();
    const [row] = await tx
      .select({ paymentReference: paymentAttempts.paymentReference })
      .from(paymentAttempts)
      .where(and(eq(paymentAttempts.orderId, orderId), eq(paymentAttempts.idempotencyKey, idempotencyKey)));
    return row?.paymentReference ?? paymentReference;
  });
}

/** Names the payment an ended order owes back (set once, by the transition that ended it). */
export async function setRefundPaymentReference(tx: Executor, orderId: string, reference: string): Promise<void> {
  await tx.update(orders).set({ refundPaymentReference: reference }).where(eq(orders.id, orderId));
}

/** The first payment recorded for the order, if any: the one a recovered sale is completed with. */
export async function firstPaymentAttempt(
  db: Executor,
  orderId: string,
): Promise<{ idempotencyKey: string; paymentReference: string } | undefined> {
  const [row] = await db
    .select({ idempotencyKey: paymentAttempts.idempotencyKey, paymentReference: paymentAttempts.paymentReference })
    .from(paymentAttempts)
    .where(eq(paymentAttempts.orderId, orderId))
    .orderBy(asc(paymentAttempts.createdAt), asc(paymentAttempts.idempotencyKey))
    .limit(1);
  return row;
}

/**
 * Takes up to `limit` CREATED orders whose expires_at passed more than `graceSeconds` ago for the overdue check:
 * those checked least recently (never first), then the oldest, and stamps them checked now. Orders a run cannot
 * settle (left for an operator, booking unreachable) so go to the back of the line instead of filling every batch.
 * Rows another transaction is changing are skipped; the next run sees them.
 */
export async function findOverdueOrders(db: Executor, graceSeconds: number, limit: number): Promise<string[]> {
  const rows = await db.execute<{ id: string }>(sql`
    update checkout.orders set last_checked_at = now()
    where id in (
      select id from checkout.orders
      where status = 'CREATED' and expires_at < now() - ${graceSeconds}::int * interval '1 second'
      order by last_checked_at asc nulls first, expires_at asc
      limit ${limit}::int
      for update skip locked)
    returning id`);
  return rows.map((row) => row.id);
}

/** The order's status alone (one query), or undefined. */
export async function orderStatus(db: Executor, orderId: string): Promise<OrderStatus | undefined> {
  const [row] = await db.select({ status: orders.status }).from(orders).where(eq(orders.id, orderId));
  return row?.status;
}
