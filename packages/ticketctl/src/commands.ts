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
  orderStatusToJSON,
  PlaceOrderResponse,
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
  if (order.tickets.length > 0) lines.push('  tickets:', ...order.tickets.map((ticket) => `    ${ticket.code}`));
  return lines.join('\n');
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
      'events create --name NAME --starts-at ISO --ends-at ISO --ticket NAME:PRICE:CURRENCY:SEATS [--ticket …] [--location ID] [--description D]',
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
    usage: 'orders pay ORDER_ID --reference PAYMENT_REF [--idempotency-key K]   (the box office, as an admin)',
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
