import {
  alreadyExists,
  type Caller,
  failedPrecondition,
  invalidArgument,
  isAdmin,
  permissionDenied,
} from '@ticket/platform';
import { findOrder } from '../db/order-repository.ts';
import { claimTickets, findPayment, insertRequestedRefund } from '../db/payment-repository.ts';
import { type Order, type Ticket, uuidV5 } from '../domain/order.ts';
import type { Refund } from '../domain/payment.ts';
import type { CheckoutContext } from './context.ts';
import { findOwnOrder } from './orders.ts';
import { processRefundQuietly } from './refunds.ts';

export interface RefundOrderCommand {
  userId: string;
  orderId: string;
  /** Empty: every ticket of the order not refunded yet. */
  ticketCodes: string[];
  idempotencyKey: string;
}

/**
 * RefundOrder. Decides who may (admin; the events' organizer; the buyer within every event's refund window),
 * which tickets and how much, then records the refund and takes its tickets in one transaction (so two refunds
 * never take the same ticket) and asks the provider right away. The order is answered with the refund PENDING
 * when the provider did not confirm yet: the retry job finishes it (see refunds.ts for what follows).
 */
export async function refundOrder(
  context: CheckoutContext,
  caller: Caller,
  authorization: string | undefined,
  command: RefundOrderCommand,
): Promise<Order> {
  const order = await findOwnOrder(context, command.userId, command.orderId);
  const existing = order.refunds.find((refund) => refund.id === refundIdFor(order, command.idempotencyKey));
  if (existing) return answerRepeat(order, existing, command);
  if (order.status !== 'PAID' && order.status !== 'PARTIALLY_REFUNDED') {
    throw failedPrecondition(`order ${order.id} cannot be refunded: it is ${order.status.toLowerCase()}`);
  }
  const tickets = ticketsToRefund(order, command.ticketCodes);
  await requireRefundRight(context, caller, authorization, order, tickets);
  const payment = order.paymentReference
    ? await findPayment(context.db, context.payments.name, order.paymentReference)
    : undefined;
  if (payment?.status !== 'SUCCEEDED') {
    throw failedPrecondition(
      `order ${order.id} was paid at the box office, not through the payment provider: refund it there`,
    );
  }

  const refund = await context.db.transaction(async (tx) => {
    const { refund: stored, created } = await insertRequestedRefund(tx, {
      id: refundIdFor(order, command.idempotencyKey),
      orderId: order.id,
      provider: payment.provider,
      paymentId: payment.id,
      amountMinor: amountOf(order, tickets),
      currency: order.currency,
      reason: 'REQUESTED',
      idempotencyKey: command.idempotencyKey,
      ticketCodes: tickets.map((ticket) => ticket.code),
    });
    if (!created) return stored;
    const codes = tickets.map((ticket) => ticket.code);
    if ((await claimTickets(tx, order.id, codes, stored.id)) !== codes.length) {
      // Another refund took one of them meanwhile: nothing of this one is kept.
      throw failedPrecondition('a ticket of this refund is being refunded by another request');
    }
    return stored;
  });
  await processRefundQuietly(context, refund.id);
  const after = await findOrder(context.db, order.id);
  if (!after) throw new Error(`order ${order.id} vanished`);
  return after;
}

/** Fixed namespace of refund ids (UUID v5), as for order ids. */
const REFUND_ID_NAMESPACE = '0d7f3a2e-5c1b-4e8a-b6d4-9a2c71e5f380';

/** One refund per (order, key), so a repeat and a concurrent duplicate name the same refund row. */
const refundIdFor = (order: Order, idempotencyKey: string): string =>
  uuidV5(REFUND_ID_NAMESPACE, `${order.id}\u0000${idempotencyKey}`);

/** A repeat of a refund: the same tickets get the order as it is now; other tickets under the key are refused. */
function answerRepeat(order: Order, refund: Refund, command: RefundOrderCommand): Order {
  const asked = [...command.ticketCodes].sort();
  if (asked.length > 0 && asked.join() !== [...refund.ticketCodes].sort().join()) {
    throw alreadyExists(`a refund with idempotency_key ${command.idempotencyKey} and other ticket_codes`);
  }
  return order;
}

/** The tickets named (each must be the order's and not refunded yet), or every ticket not refunded yet. */
function ticketsToRefund(order: Order, codes: readonly string[]): Ticket[] {
  const refundable = order.tickets.filter((ticket) => !ticket.voided && !claimedByPendingRefund(order, ticket));
  if (codes.length === 0) {
    if (refundable.length === 0) throw failedPrecondition(`order ${order.id} has no ticket left to refund`);
    return refundable;
  }
  const byCode = new Map(refundable.map((ticket) => [ticket.code, ticket]));
  const problems = codes.flatMap((code, index) =>
    byCode.has(code)
      ? []
      : [{ field: `ticket_codes[${index}]`, description: 'not a ticket of this order that can still be refunded' }],
  );
  if (new Set(codes).size !== codes.length)
    problems.push({ field: 'ticket_codes', description: 'names a ticket twice' });
  if (problems.length > 0) throw invalidArgument(problems);
  return codes.map((code) => byCode.get(code) as Ticket);
}

const claimedByPendingRefund = (order: Order, ticket: Ticket): boolean =>
  order.refunds.some((refund) => refund.completedAt === null && refund.ticketCodes.includes(ticket.code));

/** What the tickets cost: each at its item's unit price. */
function amountOf(order: Order, tickets: readonly Ticket[]): number {
  const price = new Map(order.items.map((item) => [item.ticketTypeId, item.unitPriceMinor]));
  return tickets.reduce((sum, ticket) => sum + (price.get(ticket.ticketTypeId) ?? 0), 0);
}

/**
 * An admin may always refund; the organizer of every event the tickets are for may always refund; the buyer may
 * refund while every one of those events allows it (refundable_until, asked of the event service).
 */
async function requireRefundRight(
  context: CheckoutContext,
  caller: Caller,
  authorization: string | undefined,
  order: Order,
  tickets: readonly Ticket[],
): Promise<void> {
  if (isAdmin(caller)) return;
  const eventIds = [...new Set(tickets.map((ticket) => ticket.eventId))];
  const terms = await Promise.all(eventIds.map((eventId) => context.catalog.refundTerms(eventId, authorization)));
  if (terms.every((term) => term.organizerId !== undefined && term.organizerId === caller.id)) return;
  if (caller.id !== order.userId) {
    throw permissionDenied('only the buyer, the event’s organizer or an admin may refund this order');
  }
  const now = Date.now();
  if (!terms.every((term) => term.refundableUntil !== undefined && term.refundableUntil.getTime() > now)) {
    throw permissionDenied('the event does not allow buyers to refund their tickets (any more): ask the organizer');
  }
}
