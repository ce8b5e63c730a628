import type { CheckoutServiceImplementation } from '@ticket/contracts/v1/checkout/checkout_service';
import { type AuthContext, parseRequest, requireCaller } from '@ticket/platform';
import { cancelOrder } from '../app/cancel-order.ts';
import { addToCart, getUserCart, updateCart } from '../app/cart.ts';
import type { CheckoutContext } from '../app/context.ts';
import { markOrderAsPaid } from '../app/mark-order-as-paid.ts';
import { findOwnOrder, listOrders } from '../app/orders.ts';
import { placeOrder } from '../app/place-order.ts';
import { toCartMessage, toOrderMessage } from '../mapping.ts';
import {
  addToCartRequest,
  encodePageToken,
  getUserCartRequest,
  listOrdersRequest,
  markOrderAsPaidRequest,
  orderRequest,
  placeOrderRequest,
  updateCartRequest,
} from './requests.ts';

/**
 * The CheckoutService port: validate, check the acting user is the authenticated caller, call the use case, map
 * back. Authentication itself happened in the auth middleware (UNAUTHENTICATED before any of this runs).
 */
export function checkoutService(context: CheckoutContext): CheckoutServiceImplementation<AuthContext> {
  const maxSeats = context.config.MAX_SEATS_PER_ORDER;
  const addRequest = addToCartRequest(maxSeats);
  const updateRequest = updateCartRequest(maxSeats);
  return {
    async getUserCart(request, call) {
      const { userId } = parseRequest(getUserCartRequest, request);
      requireCaller(call, userId);
      return { cart: toCartMessage(userId, await getUserCart(context, userId)) };
    },
    async addToCart(request, call) {
      const change = parseRequest(addRequest, request);
      requireCaller(call, change.userId);
      return { cart: toCartMessage(change.userId, await addToCart(context, change, call.signal)) };
    },
    async updateCart(request, call) {
      const change = parseRequest(updateRequest, request);
      requireCaller(call, change.userId);
      return { cart: toCartMessage(change.userId, await updateCart(context, change, call.signal)) };
    },
    async placeOrder(request, call) {
      const command = parseRequest(placeOrderRequest, request);
      requireCaller(call, command.userId);
      return { order: toOrderMessage(await placeOrder(context, command, call.signal)) };
    },
    async markOrderAsPaid(request, call) {
      const command = parseRequest(markOrderAsPaidRequest, request);
      requireCaller(call, command.userId);
      return { order: toOrderMessage(await markOrderAsPaid(context, command)) };
    },
    async cancelOrder(request, call) {
      const { userId, orderId } = parseRequest(orderRequest, request);
      requireCaller(call, userId);
      return { order: toOrderMessage(await cancelOrder(context, userId, orderId)) };
    },
    async getOrder(request, call) {
      const { userId, orderId } = parseRequest(orderRequest, request);
      requireCaller(call, userId);
      return { order: toOrderMessage(await findOwnOrder(context, userId, orderId)) };
    },
    async listOrders(request, call) {
      const { userId, pageSize, pageToken } = parseRequest(listOrdersRequest, request);
      requireCaller(call, userId);
      const page = await listOrders(context, userId, pageSize, pageToken);
      return { orders: page.orders.map(toOrderMessage), nextPageToken: page.next ? encodePageToken(page.next) : '' };
    },
  };
}
