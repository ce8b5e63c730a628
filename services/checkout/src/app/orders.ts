import { notFound } from '@ticket/platform';
import { findOrder, listOrdersPage, type OrderCursor } from '../db/order-repository.ts';
import type { Order } from '../domain/order.ts';
import type { CheckoutContext } from './context.ts';

/** The user's order; another user's order is NOT_FOUND, exactly like one that does not exist. */
export async function findOwnOrder(context: CheckoutContext, userId: string, orderId: string): Promise<Order> {
  const order = await findOrder(context.db, orderId);
  if (!order || order.userId !== userId) throw notFound(`order ${orderId}`);
  return order;
}

/** ListOrders: newest first, keyset-paginated; three queries per page whatever its size. */
export function listOrders(
  context: CheckoutContext,
  userId: string,
  pageSize: number,
  after: OrderCursor | undefined,
): Promise<{ orders: Order[]; next: OrderCursor | undefined }> {
  return listOrdersPage(context.db, userId, pageSize, after);
}
