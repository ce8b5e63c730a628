import { createHash, randomBytes } from 'node:crypto';
import { type DomainError, failedPrecondition } from '@ticket/platform';
import type { Payment, Refund } from './payment.ts';

// Pure types and rules of carts, orders and tickets; no I/O here.

export type OrderStatus = 'CREATED' | 'PAID' | 'CANCELLED' | 'EXPIRED' | 'FAILED' | 'REFUNDED' | 'PARTIALLY_REFUNDED';

/** A ticket type as the event service describes it. */
export interface TicketTypeInfo {
  id: string;
  eventId: string;
  name: string;
  priceMinor: number;
  currency: string;
}

export interface CartLine {
  ticketTypeId: string;
  eventId: string;
  ticketTypeName: string;
  unitPriceMinor: number;
  currency: string;
  quantity: number;
}

export interface OrderItem extends CartLine {
  /** Booking's hold of these seats; null when the order FAILED before holding them. */
  bookingId: string | null;
}

export interface Ticket {
  code: string;
  eventId: string;
  ticketTypeId: string;
  /** Refunded: it no longer admits anyone. */
  voided: boolean;
}

export interface Order {
  id: string;
  userId: string;
  email: string;
  status: OrderStatus;
  idempotencyKey: string;
  totalMinor: number;
  currency: string;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date;
  paidAt: Date | null;
  paymentReference: string | null;
  paymentIdempotencyKey: string | null;
  refundPaymentReference: string | null;
  failureReason: string | null;
  failureKind: string | null;
  items: OrderItem[];
  tickets: Ticket[];
  /** The payment created at the provider for the order, the latest if several. */
  payment: Payment | null;
  refunds: Refund[];
}

export type OrderEventType =
  | 'CREATED'
  | 'PAID'
  | 'CANCELLED'
  | 'EXPIRED'
  | 'FAILED'
  | 'PAYMENT_FAILED'
  | 'REFUNDED'
  | 'LATE_PAYMENT_REFUNDED';

/** A booking (seat hold) of an order, as booking reports it. */
export interface Hold {
  id: string;
  ticketTypeId: string;
  seats: number;
  status: 'HELD' | 'SOLD' | 'RELEASED' | 'EXPIRED';
  expiresAt: Date;
}

/** Fixed namespace of order ids (UUID v5), so every replica derives the same id from the same inputs. */
const ORDER_ID_NAMESPACE = '6f1c8a52-3b0e-4d7a-9c55-1e2f7d0b8a41';

/**
 * The order id of (user, PlaceOrder idempotency key): a UUID v5, so retries and concurrent duplicates of one
 * PlaceOrder name the same order, in booking (holds are per order) as in checkout's orders table.
 */
export function orderIdFor(userId: string, idempotencyKey: string): string {
  return uuidV5(ORDER_ID_NAMESPACE, `${userId}\u0000${idempotencyKey}`);
}

export function uuidV5(namespace: string, name: string): string {
  const namespaceBytes = Buffer.from(namespace.replaceAll('-', ''), 'hex');
  const hash = createHash('sha1').update(namespaceBytes).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Booking's idempotency key of one item's hold: a repeated PlaceOrder never holds the same item twice. */
export const holdKeyFor = (orderId: string, ticketTypeId: string): string => `${orderId}:${ticketTypeId}`;

/** The one currency of a cart or order's lines, or FAILED_PRECONDITION when they mix currencies. */
export function singleCurrency(lines: readonly { currency: string }[]): string | undefined {
  const currencies = new Set(lines.map((line) => line.currency));
  if (currencies.size > 1) {
    throw failedPrecondition(`the cart mixes currencies (${[...currencies].join(', ')}); an order has one currency`);
  }
  return lines[0]?.currency;
}

/** Sum of quantity * unit price, in minor units; refuses a total a JS number cannot hold exactly. */
export function totalOf(lines: readonly CartLine[]): number {
  const total = lines.reduce((sum, line) => sum + line.unitPriceMinor * line.quantity, 0);
  if (!Number.isSafeInteger(total)) throw failedPrecondition('the order total is too large');
  return total;
}

/** The priced lines of an order, in the cart's line order, from the event service's current ticket types. */
export function priceLines(cart: readonly CartLine[], ticketTypes: ReadonlyMap<string, TicketTypeInfo>): CartLine[] {
  const lines = cart.map((line) => {
    const ticketType = ticketTypes.get(line.ticketTypeId);
    if (!ticketType) throw failedPrecondition(`ticket type ${line.ticketTypeId} is no longer on sale`);
    return {
      ticketTypeId: line.ticketTypeId,
      eventId: ticketType.eventId,
      ticketTypeName: ticketType.name,
      unitPriceMinor: ticketType.priceMinor,
      currency: ticketType.currency,
      quantity: line.quantity,
    };
  });
  singleCurrency(lines);
  return lines;
}

/** An order whose status is not CREATED can no longer change: FAILED_PRECONDITION naming what it is. */
export const notChangeable = (order: Pick<Order, 'id' | 'status'>, action: string): DomainError =>
  failedPrecondition(`order ${order.id} cannot be ${action}: it is ${order.status.toLowerCase()}`);

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding: case-insensitive and free of look-alike symbols, easy to read out at a gate. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/** 120 random bits: unguessable, and a collision (which the unique index would refuse) is beyond any real count. */
const TICKET_CODE_BYTES = 15;

/** One fresh ticket per seat of the order's items, in item order. */
export function issueTickets(items: readonly CartLine[]): Ticket[] {
  return items.flatMap((item) =>
    Array.from({ length: item.quantity }, () => ({
      code: base32(randomBytes(TICKET_CODE_BYTES)),
      eventId: item.eventId,
      ticketTypeId: item.ticketTypeId,
      voided: false,
    })),
  );
}

/** The holds of an order as booking reports them, boiled down to what checkout decides on. */
export function holdsState(holds: readonly Hold[]): 'none' | 'all-sold' | 'some-sold' | 'live' | 'ended' {
  if (holds.length === 0) return 'none';
  const sold = holds.filter((hold) => hold.status === 'SOLD').length;
  if (sold === holds.length) return 'all-sold';
  if (sold > 0) return 'some-sold';
  return holds.some((hold) => hold.status === 'HELD') ? 'live' : 'ended';
}
