import { randomUUID } from 'node:crypto';
import {
  AddToCartResponse,
  CancelOrderResponse,
  type Cart,
  GetOrderResponse,
  GetUserCartResponse,
  ListOrdersResponse,
  MarkOrderAsPaidResponse,
  type Order,
  OrderStatus,
  orderStatusToJSON,
  PlaceOrderResponse,
  RefundOrderResponse,
  refundReasonToJSON,
  refundStatusToJSON,
  UpdateCartResponse,
} from '@ticket/contracts/v1/checkout/checkout_service';
import {
  CreateEventResponse,
  CreateLocationResponse,
  type Event,
  GetEventResponse,
  ListEventsResponse,
  ListLocationsResponse,
} from '@ticket/contracts/v1/event/event_service';
import {
  channelToJSON,
  deliveryStatusToJSON,
  ListNotificationsResponse,
  notificationKindToJSON,
} from '@ticket/contracts/v1/notification/notification_service';
import { enumName, formatMoney, formatTime, parseAmount, table, UsageError } from './format.ts';
import type { Session } from './session.ts';

/** What a command gives back: the response as proto3 JSON (for --json) and how a person reads it. */
export interface Output {
  json: unknown;
  text: string;
}

export interface CommandInput {
  session: Session;
  args: string[];
  flags: Record<string, string | string[] | boolean | undefined>;
}

export interface Command {
  usage: string;
  run(input: CommandInput): Promise<Output>;
}

const text = (flags: CommandInput['flags'], name: string): string | undefined => {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
};

function required(flags: CommandInput['flags'], name: string): string {
  const value = text(flags, name);
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

function argument(args: readonly string[], index: number, name: string): string {
  const value = args[index];
  if (value === undefined) throw new UsageError(`<${name}> is required`);
  return value;
}

function count(value: string, name: string): number {
  const number = Number(value);
  if (!Number.isInteger(number)) throw new UsageError(`<${name}> must be a whole number`);
  return number;
}

function time(value: string, name: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new UsageError(`--${name} must be a date/time, e.g. 2027-06-01T19:00:00Z`);
  return date;
}

function optionalTime(flags: CommandInput['flags'], name: string): Date | undefined {
  const value = text(flags, name);
  return value === undefined ? undefined : time(value, name);
}

/** --ticket "General:25.00:EUR:100" → a ticket type spec. */
function ticketSpec(spec: string) {
  const [name, price, currency, seats] = spec.split(':');
  if (!name || !price || !currency || !seats) {
    throw new UsageError(`--ticket must be NAME:PRICE:CURRENCY:SEATS, e.g. General:25.00:EUR:100 (got "${spec}")`);
  }
  const code = currency.toUpperCase();
  return { name, price: { amountMinor: parseAmount(price, code), currency: code }, seats: count(seats, 'seats') };
}

const eventText = (event: Event): string =>
  [
    `${event.name}  (${event.id})`,
    `  ${formatTime(event.startsAt)} → ${formatTime(event.endsAt)}${event.location ? `  at ${event.location.name}, ${event.location.city}` : ''}`,
    ...(event.refundableUntil ? [`  buyers may refund until ${formatTime(event.refundableUntil)}`] : []),
    table(
      event.ticketTypes.map((ticketType) => ({
        ticket_type: ticketType.id,
        name: ticketType.name,
        price: formatMoney(ticketType.price),
        seats: ticketType.seats,
      })),
    ).replace(/^/gm, '  '),
  ].join('\n');

const cartText = (cart: Cart | undefined): string =>
  !cart || cart.items.length === 0
    ? 'the cart is empty'
    : `${table(
        cart.items.map((item) => ({
          ticket_type: item.ticketTypeId,
          name: item.ticketTypeName,
          price: formatMoney(item.unitPrice),
          quantity: item.quantity,
        })),
      )}\ntotal: ${formatMoney(cart.total)}`;

function orderText(order: Order | undefined): string {
  if (!order) return '-';
  const lines = [
    `order ${order.id}: ${enumName(orderStatusToJSON(order.status), 'ORDER_STATUS_')}, total ${formatMoney(order.total)}`,
    `  placed ${formatTime(order.createdAt)}, ${order.paidAt ? `paid ${formatTime(order.paidAt)}` : `pay before ${formatTime(order.expiresAt)}`}`,
    table(
      order.items.map((item) => ({
        name: item.ticketTypeName,
        price: formatMoney(item.unitPrice),
        quantity: item.quantity,
      })),
    ).replace(/^/gm, '  '),
  ];
  if (order.failureReason) lines.push(`  failed: ${order.failureReason}`);
  if (order.payment?.payUrl && order.status === OrderStatus.ORDER_STATUS_CREATED) {
    lines.push(`  pay at: ${order.payment.payUrl}`);
  }
  if (order.tickets.length > 0) {
    lines.push(
      '  tickets:',
      ...order.tickets.map((ticket) => `    ${ticket.code}${ticket.voided ? '  (refunded)' : ''}`),
    );
  }
  for (const refund of order.refunds) {
    lines.push(
      `  refund ${formatMoney(refund.amount)}: ${enumName(refundReasonToJSON(refund.reason), 'REFUND_REASON_')}, ${enumName(refundStatusToJSON(refund.status), 'REFUND_STATUS_')}`,
    );
  }
  return lines.join('\n');
}

/** What the buyer does on the sandbox's pay page: its form, posted. */
async function submitPayPage(payUrl: string, outcome: 'succeed' | 'decline', delayMs: number | undefined) {
  const form = new URLSearchParams({ outcome, ...(delayMs === undefined ? {} : { delay_ms: String(delayMs) }) });
  const response = await fetch(payUrl, { method: 'POST', body: form, signal: AbortSignal.timeout(10_000) });
  if (response.status >= 400) throw new Error(`the pay page answered ${response.status}`);
}

/** The order once the provider's webhook made it PAID (a few hundred ms), or an error after 20 s. */
async function awaitPaid(session: CommandInput['session'], orderId: string): Promise<Order> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { order } = await session.checkout.getOrder({ userId: session.userId, orderId }, await session.asUser());
    if (order && order.status !== OrderStatus.ORDER_STATUS_CREATED) return order;
    if (Date.now() > deadline) throw new Error(`order ${orderId} is still awaiting its payment's confirmation`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export const COMMANDS: Record<string, Command> = {
  token: {
    usage:
      'token   (a bearer token of --user with each --role, valid 10 minutes, e.g. for grpcurl -H "authorization: Bearer …")',
    async run({ session }) {
      const token = await session.token();
      return { json: { token }, text: token };
    },
  },
  'locations create': {
    usage: 'locations create --name NAME [--address A] [--city C] [--country DE]',
    async run({ session, flags }) {
      const response = await session.event.createLocation(
        {
          name: required(flags, 'name'),
          address: text(flags, 'address') ?? '',
          city: text(flags, 'city') ?? '',
          countryCode: text(flags, 'country') ?? '',
        },
        await session.asUser(),
      );
      return { json: CreateLocationResponse.toJSON(response), text: `location ${response.location?.id} created` };
    },
  },
  'locations list': {
    usage: 'locations list',
    async run({ session }) {
      const response = await session.event.listLocations({ pageSize: 100, pageToken: '' }, await session.asUserIfAny());
      const rows = response.locations.map((location) => ({
        id: location.id,
        name: location.name,
        city: location.city,
        country: location.countryCode,
      }));
      return { json: ListLocationsResponse.toJSON(response), text: table(rows) };
    },
  },
  'events create': {
    usage:
      'events create --name NAME --starts-at ISO --ends-at ISO --ticket NAME:PRICE:CURRENCY:SEATS [--ticket …] [--location ID] [--description D] [--refundable-until ISO]',
    async run({ session, flags }) {
      const tickets = flags.ticket;
      const specs = (Array.isArray(tickets) ? tickets : typeof tickets === 'string' ? [tickets] : []).map(ticketSpec);
      if (specs.length === 0) throw new UsageError('at least one --ticket is required');
      const response = await session.event.createEvent(
        {
          idempotencyKey: text(flags, 'idempotency-key') ?? randomUUID(),
          name: required(flags, 'name'),
          description: text(flags, 'description') ?? '',
          startsAt: time(required(flags, 'starts-at'), 'starts-at'),
          endsAt: time(required(flags, 'ends-at'), 'ends-at'),
          locationId: text(flags, 'location'),
          ticketTypes: specs,
          refundableUntil: optionalTime(flags, 'refundable-until'),
        },
        await session.asUser(),
      );
      return { json: CreateEventResponse.toJSON(response), text: response.event ? eventText(response.event) : '-' };
    },
  },
  'events list': {
    usage: 'events list [--location ID]',
    async run({ session, flags }) {
      const response = await session.event.listEvents(
        { pageSize: 100, pageToken: '', locationId: text(flags, 'location') },
        await session.asUserIfAny(),
      );
      return {
        json: ListEventsResponse.toJSON(response),
        text: response.events.length ? response.events.map(eventText).join('\n\n') : '(none)',
      };
    },
  },
  'events get': {
    usage: 'events get EVENT_ID',
    async run({ session, args }) {
      const response = await session.event.getEvent(
        { eventId: argument(args, 0, 'event id') },
        await session.asUserIfAny(),
      );
      return { json: GetEventResponse.toJSON(response), text: response.event ? eventText(response.event) : '-' };
    },
  },
  'cart add': {
    usage: 'cart add TICKET_TYPE_ID QUANTITY',
    async run({ session, args }) {
      const response = await session.checkout.addToCart(
        {
          userId: session.userId,
          ticketTypeId: argument(args, 0, 'ticket type id'),
          quantity: count(argument(args, 1, 'quantity'), 'quantity'),
        },
        await session.asUser(),
      );
      return { json: AddToCartResponse.toJSON(response), text: cartText(response.cart) };
    },
  },
  'cart set': {
    usage: 'cart set TICKET_TYPE_ID QUANTITY   (0 removes the line)',
    async run({ session, args }) {
      const response = await session.checkout.updateCart(
        {
          userId: session.userId,
          ticketTypeId: argument(args, 0, 'ticket type id'),
          quantity: count(argument(args, 1, 'quantity'), 'quantity'),
        },
        await session.asUser(),
      );
      return { json: UpdateCartResponse.toJSON(response), text: cartText(response.cart) };
    },
  },
  'cart show': {
    usage: 'cart show',
    async run({ session }) {
      const response = await session.checkout.getUserCart({ userId: session.userId }, await session.asUser());
      return { json: GetUserCartResponse.toJSON(response), text: cartText(response.cart) };
    },
  },
  'orders place': {
    usage: 'orders place --email ADDRESS [--idempotency-key K]',
    async run({ session, flags }) {
      const response = await session.checkout.placeOrder(
        {
          userId: session.userId,
          email: required(flags, 'email'),
          idempotencyKey: text(flags, 'idempotency-key') ?? randomUUID(),
        },
        await session.asUser(),
      );
      return { json: PlaceOrderResponse.toJSON(response), text: orderText(response.order) };
    },
  },
  'orders pay': {
    usage:
      'orders pay ORDER_ID [--decline] [--late SECONDS]   (pays on the provider’s pay page, as the buyer would; the order is PAID once its webhook arrives)',
    async run({ session, args, flags }) {
      const orderId = argument(args, 0, 'order id');
      const { order } = await session.checkout.getOrder({ userId: session.userId, orderId }, await session.asUser());
      const payUrl = order?.payment?.payUrl;
      if (!payUrl) {
        throw new UsageError(`order ${orderId} has no pay page (provider ${order?.payment?.provider ?? 'none'})`);
      }
      const outcome = flags.decline === true ? 'decline' : 'succeed';
      const lateSeconds = text(flags, 'late');
      await submitPayPage(payUrl, outcome, lateSeconds === undefined ? undefined : count(lateSeconds, 'late') * 1_000);
      if (outcome === 'decline' || lateSeconds !== undefined) {
        const said = outcome === 'decline' ? 'declined' : `will be paid in ${lateSeconds} s`;
        return {
          json: { orderId, payment: order.payment, outcome, lateSeconds },
          text: `payment of order ${orderId} ${said}`,
        };
      }
      const paid = await awaitPaid(session, orderId);
      return { json: GetOrderResponse.toJSON({ order: paid }), text: orderText(paid) };
    },
  },
  'orders mark-paid': {
    usage: 'orders mark-paid ORDER_ID --reference PAYMENT_REF [--idempotency-key K]   (the box office, as an admin)',
    async run({ session, args, flags }) {
      const response = await session.checkout.markOrderAsPaid(
        {
          userId: session.userId,
          orderId: argument(args, 0, 'order id'),
          paymentReference: required(flags, 'reference'),
          idempotencyKey: text(flags, 'idempotency-key') ?? randomUUID(),
        },
        await session.asAdmin(),
      );
      return { json: MarkOrderAsPaidResponse.toJSON(response), text: orderText(response.order) };
    },
  },
  'orders refund': {
    usage:
      'orders refund ORDER_ID [--ticket CODE …] [--buyer ID] [--idempotency-key K]   (the buyer in the refund window, the organizer, an admin)',
    async run({ session, args, flags }) {
      const codes = flags.ticket;
      const response = await session.checkout.refundOrder(
        {
          userId: text(flags, 'buyer') ?? session.userId,
          orderId: argument(args, 0, 'order id'),
          ticketCodes: Array.isArray(codes) ? codes : typeof codes === 'string' ? [codes] : [],
          idempotencyKey: text(flags, 'idempotency-key') ?? randomUUID(),
        },
        await session.asUser(),
      );
      return { json: RefundOrderResponse.toJSON(response), text: orderText(response.order) };
    },
  },
  'orders cancel': {
    usage: 'orders cancel ORDER_ID',
    async run({ session, args }) {
      const response = await session.checkout.cancelOrder(
        { userId: session.userId, orderId: argument(args, 0, 'order id') },
        await session.asUser(),
      );
      return { json: CancelOrderResponse.toJSON(response), text: orderText(response.order) };
    },
  },
  'orders get': {
    usage: 'orders get ORDER_ID',
    async run({ session, args }) {
      const response = await session.checkout.getOrder(
        { userId: session.userId, orderId: argument(args, 0, 'order id') },
        await session.asUser(),
      );
      return { json: GetOrderResponse.toJSON(response), text: orderText(response.order) };
    },
  },
  'orders list': {
    usage: 'orders list',
    async run({ session }) {
      const response = await session.checkout.listOrders(
        { userId: session.userId, pageSize: 50, pageToken: '' },
        await session.asUser(),
      );
      return {
        json: ListOrdersResponse.toJSON(response),
        text: response.orders.length ? response.orders.map(orderText).join('\n\n') : '(none)',
      };
    },
  },
  'notifications list': {
    usage: 'notifications list',
    async run({ session }) {
      const response = await session.notification.listNotifications(
        { userId: session.userId, pageSize: 50, pageToken: '' },
        await session.asUser(),
      );
      const rows = response.notifications.map((notification) => ({
        time: formatTime(notification.createdAt),
        kind: enumName(notificationKindToJSON(notification.kind), 'NOTIFICATION_KIND_'),
        channel: enumName(channelToJSON(notification.channel), 'CHANNEL_'),
        status: enumName(deliveryStatusToJSON(notification.status), 'DELIVERY_STATUS_'),
        to: notification.recipient,
        subject: notification.subject,
      }));
      return { json: ListNotificationsResponse.toJSON(response), text: table(rows) };
    },
  },
};
