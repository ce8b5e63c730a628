import {
  CheckoutServiceDefinition,
  type CheckoutServiceImplementation,
} from '@ticket/contracts/v1/checkout/checkout_service';
import { type AuthContext, access, accessPolicy, parseRequest, Role, requireActingUser } from '@ticket/platform';
import { cancelOrder } from '../app/cancel-order.ts';
import { addToCart, getUserCart, updateCart } from '../app/cart.ts';
import type { CheckoutContext } from '../app/context.ts';
import { markOrderAsPaid } from '../app/mark-order-as-paid.ts';
import { findOwnOrder, listOrders } from '../app/orders.ts';
import { placeOrder } from '../app/place-order.ts';
import { refundOrder } from '../app/refund-order.ts';
import { toCartMessage, toOrderMessage } from '../mapping.ts';
import {
  addToCartRequest,
  encodePageToken,
  getUserCartRequest,
  listOrdersRequest,
  markOrderAsPaidRequest,
  orderRequest,
  placeOrderRequest,
  refundOrderRequest,
  updateCartRequest,
} from './requests.ts';

/**
 * Who may call what. Every RPC is a user's; which user's carts and orders the caller may touch (their own, or
 * anyone's for an admin) is the handlers' to check. A buyer never marks their own order paid: MarkOrderAsPaid is
 * the box office's (admin) until the payment provider's webhook pays orders.
 */
export const checkoutAccess = accessPolicy(CheckoutServiceDefinition, {
  getUserCart: access.anyUser,
  addToCart: access.anyUser,
  updateCart: access.anyUser,
  placeOrder: access.anyUser,
  markOrderAsPaid: access.roles(Role.admin),
  cancelOrder: access.anyUser,
  getOrder: access.anyUser,
  listOrders: access.anyUser,
  // The buyer, the event's organizer or an admin: refundOrder decides with the order and the event in hand.
  refundOrder: access.anyUser,
});

/**
 * The CheckoutService port: validate, check the caller may act as the request's user (that user, or an admin), call
 * the use case, map back. The auth middleware has already authenticated the caller and applied checkoutAccess
 * (UNAUTHENTICATED, PERMISSION_DENIED before any of this runs). Orders are looked up as the acting user's, so
 * another user's order id is NOT_FOUND, never a hint that it exists.
 */
export function checkoutService(context: CheckoutContext): CheckoutServiceImplementation<AuthContext> {
  const maxSeats = context.config.MAX_SEATS_PER_ORDER;
  const addRequest = addToCartRequest(maxSeats);
  const updateRequest = updateCartRequest(maxSeats);
  return {
    async getUserCart(request, call) {
      const { userId } = parseRequest(getUserCartRequest, request);
      requireActingUser(call.caller, userId);
      return { cart: toCartMessage(userId, await getUserCart(context, userId)) };
    },
    async addToCart(request, call) {
      const change = parseRequest(addRequest, request);
      requireActingUser(call.caller, change.userId);
      return { cart: toCartMessage(change.userId, await addToCart(context, change, call.signal)) };
    },
    async updateCart(request, call) {
      const change = parseRequest(updateRequest, request);
      requireActingUser(call.caller, change.userId);
      return { cart: toCartMessage(change.userId, await updateCart(context, change, call.signal)) };
    },
    async placeOrder(request, call) {
      const command = parseRequest(placeOrderRequest, request);
      requireActingUser(call.caller, command.userId);
      return { order: toOrderMessage(await placeOrder(context, command, call.signal)) };
    },
    async markOrderAsPaid(request, call) {
      const command = parseRequest(markOrderAsPaidRequest, request);
      requireActingUser(call.caller, command.userId);
      return { order: toOrderMessage(await markOrderAsPaid(context, command)) };
    },
    async cancelOrder(request, call) {
      const { userId, orderId } = parseRequest(orderRequest, request);
      requireActingUser(call.caller, userId);
      return { order: toOrderMessage(await cancelOrder(context, userId, orderId)) };
    },
    async getOrder(request, call) {
      const { userId, orderId } = parseRequest(orderRequest, request);
      requireActingUser(call.caller, userId);
      return { order: toOrderMessage(await findOwnOrder(context, userId, orderId)) };
    },
    async listOrders(request, call) {
      const { userId, pageSize, pageToken } = parseRequest(listOrdersRequest, request);
      requireActingUser(call.caller, userId);
      const page = await listOrders(context, userId, pageSize, pageToken);
      return {
        orders: page.orders.map(toOrderMessage),
        nextPageToken: page.next ? encodePageToken(userId, page.next) : '',
      };
    },
    async refundOrder(request, call) {
      const command = parseRequest(refundOrderRequest, request);
      const order = await refundOrder(context, call.caller, call.metadata.get('authorization'), command);
      return { order: toOrderMessage(order) };
    },
  };
}
