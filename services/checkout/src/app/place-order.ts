import { alreadyExists, DomainError, type ErrorKind, failedPrecondition, isDomainError } from '@ticket/platform';
import { cartCovers, listCart, lockCart, subtractFromCart } from '../db/cart-repository.ts';
import { findOrder, insertOrder, type NewOrder } from '../db/order-repository.ts';
import {
  type CartLine,
  type Hold,
  holdKeyFor,
  type Order,
  orderIdFor,
  priceLines,
  singleCurrency,
  type TicketTypeInfo,
  totalOf,
} from '../domain/order.ts';
import { recordOrderEvent } from '../events/order-events.ts';
import type { CheckoutContext, HoldOutcome } from './context.ts';
import { mapBounded } from './parallel.ts';
import { withPaymentSession } from './payment-session.ts';

export interface PlaceOrderCommand {
  userId: string;
  idempotencyKey: string;
  email: string;
}

/**
 * PlaceOrder. The order id comes from (user, idempotency key), and each item's hold in booking from (order id,
 * ticket type), so repeated or concurrent calls name the same order and the same holds and can never hold twice.
 * No transaction is open during the gRPC calls: price (event), hold every item (booking), check that booking holds
 * nothing else for the order, then one transaction creates the order, takes its lines out of the cart and writes its
 * CREATED event. A cart line booking refused a moment ago is refused at once (SoldOutMemo). A refused hold is
 * answered to the buyer and nothing more (see refuse); a hold of an earlier attempt the cart no longer has, or a
 * cart that changed meanwhile, records the order FAILED (with its event). Either way every live hold of the order
 * is then released.
 */
export async function placeOrder(
  context: CheckoutContext,
  command: PlaceOrderCommand,
  signal?: AbortSignal,
): Promise<Order> {
  return withPaymentSession(context, await holdOrder(context, command, signal), signal);
}

/** Everything PlaceOrder does but the payment: the order CREATED with its holds (or FAILED). */
async function holdOrder(context: CheckoutContext, command: PlaceOrderCommand, signal?: AbortSignal): Promise<Order> {
  const orderId = orderIdFor(command.userId, command.idempotencyKey);
  const existing = await findOrder(context.db, orderId);
  if (existing) return answerRepeat(existing, command);

  const cart = await listCart(context.db, command.userId);
  if (cart.length === 0) {
    // A concurrent call of the same key may have committed the order (emptying the cart) since the look above.
    const committed = await findOrder(context.db, orderId);
    if (committed) return answerRepeat(committed, command);
    throw failedPrecondition('the cart is empty');
  }
  const knownSoldOut = knownRefusal(context, cart);
  if (knownSoldOut) refuseAsKnown(context, orderId, knownSoldOut, command);
  const items = priceLines(cart, await fetchTicketTypes(context, cart, signal));
  const draft: NewOrder = {
    id: orderId,
    userId: command.userId,
    email: command.email,
    status: 'CREATED',
    idempotencyKey: command.idempotencyKey,
    totalMinor: totalOf(items),
    currency: singleCurrency(items) ?? '',
    expiresAt: new Date(),
    paymentReference: null,
    paymentIdempotencyKey: null,
    refundPaymentReference: null,
    failureReason: null,
    failureKind: null,
    items: items.map((item) => ({ ...item, bookingId: null })),
  };

  const outcomes = await mapBounded(items, context.config.HOLD_PARALLELISM, async (item) => {
    const outcome = await context.seats.hold(
      {
        orderId,
        userId: command.userId,
        eventId: item.eventId,
        ticketTypeId: item.ticketTypeId,
        seats: item.quantity,
        idempotencyKey: holdKeyFor(orderId, item.ticketTypeId),
      },
      signal,
    );
    if (!('refused' in outcome)) return outcome;
    // Name the item in booking's refusal ("not enough seats: asked for 3, 1 left"), so the buyer knows which.
    const refused = new DomainError(outcome.refused.kind, `${item.ticketTypeName}: ${outcome.refused.message}`);
    context.soldOut.remember(item, item.quantity, refused);
    return { refused };
  });
  const holds = heldOf(outcomes);
  const refusal = refusalOf(outcomes, holds);
  if (refusal) return refuse(context, orderId, refusal, command, holds);
  // A hold whose outcome is unknown (booking unreachable): keep the ones made, so a retry with the same key
  // finds them again; if nobody retries they expire in booking by themselves.
  const unknown = outcomes.find((outcome) => outcome.status === 'rejected');
  if (unknown) throw unknown.reason;
  // Booking sells all of an order's bookings or none, so the order must own every booking made under its id. One
  // this attempt did not make is an earlier attempt's hold of a line the cart has no more (that attempt failed
  // halfway, the buyer changed the cart and retried with the key): it would be sold without a ticket.
  const own = new Set(holds.map((hold) => hold.id));
  if ((await context.seats.list(orderId, signal)).some((booking) => !own.has(booking.id))) {
    return recordFailed(context, draft, cartChangedSinceEarlierAttempt(), command, holds);
  }

  const withHolds: NewOrder = {
    ...draft,
    expiresAt: new Date(Math.min(...holds.map((hold) => hold.expiresAt.getTime()))),
    items: draft.items.map((item) => ({
      ...item,
      bookingId: holds.find((hold) => hold.ticketTypeId === item.ticketTypeId)?.id ?? null,
    })),
  };
  return commitOrder(context, withHolds, holds, command);
}

const cartChangedSinceEarlierAttempt = () =>
  failedPrecondition(
    'the cart changed since an earlier attempt with this idempotency_key held other seats: place the order with a new key',
  );

const cartChangedMeanwhile = () =>
  failedPrecondition('the cart changed while the order was being placed: look at the cart and place the order again');

/** The event service's current view of every ticket type in the cart (a missing one is NOT_FOUND). */
async function fetchTicketTypes(
  context: CheckoutContext,
  cart: readonly CartLine[],
  signal?: AbortSignal,
): Promise<Map<string, TicketTypeInfo>> {
  const found = await mapBounded(cart, context.config.HOLD_PARALLELISM, (line) =>
    context.catalog.getTicketType(line.ticketTypeId, signal),
  );
  const failed = found.find((result) => result.status === 'rejected');
  if (failed) {
    // A line whose ticket type is gone is the cart's problem, not a missing argument of this call.
    if (isDomainError(failed.reason) && failed.reason.kind === 'not_found') {
      throw failedPrecondition(`${failed.reason.message}: remove it from the cart`);
    }
    throw failed.reason;
  }
  return new Map(
    found.flatMap((result) => (result.status === 'fulfilled' ? [[result.value.id, result.value] as const] : [])),
  );
}

function heldOf(outcomes: readonly PromiseSettledResult<HoldOutcome>[]): Hold[] {
  return outcomes.flatMap((outcome) =>
    outcome.status === 'fulfilled' && 'hold' in outcome.value ? [outcome.value.hold] : [],
  );
}

/**
 * The first final refusal: booking refused a hold, or answered with a hold an earlier attempt of this order made
 * that is no longer live (released by that attempt's compensation), which this order id can never hold again.
 */
function refusalOf(outcomes: readonly PromiseSettledResult<HoldOutcome>[], holds: readonly Hold[]) {
  for (const outcome of outcomes) {
    if (outcome.status === 'fulfilled' && 'refused' in outcome.value) return outcome.value.refused;
  }
  const ended = holds.find((hold) => hold.status !== 'HELD');
  if (ended) {
    return failedPrecondition(
      `the hold of ticket type ${ended.ticketTypeId} from an earlier attempt of this order is ${ended.status.toLowerCase()}: place the order with a new idempotency_key`,
    );
  }
  return undefined;
}

/**
 * Booking refused a hold (sold out, no stock, or this key's earlier hold of the line has ended): the buyer never got
 * seats, so they get the refusal in the answer and nothing else: no order in their history, no event, no email
 * (recorded as FAILED orders, 1,000 buyers on 100 seats made 900 "order failed" emails). The log line is what
 * operators keep (there are no metrics in the services yet).
 * The order's live holds still go back, all or nothing, unless a concurrent call of the key committed the order
 * meanwhile: then this call answers it and gives back only its own holds the order does not use. Nothing being
 * recorded, a repeat of the key simply tries again. (A commit landing between the look and the release would keep
 * an order that can no longer be paid; the overdue check ends it EXPIRED. It needs the same key at the same moment
 * to be refused and then granted the same seats.)
 */
async function refuse(
  context: CheckoutContext,
  orderId: string,
  refusal: DomainError,
  command: PlaceOrderCommand,
  holds: readonly Hold[],
): Promise<Order> {
  if (await findOrder(context.db, orderId)) return answerExisting(context, orderId, command, holds);
  context.logger.info(
    { orderId, userId: command.userId, kind: refusal.kind, reason: refusal.message },
    'PlaceOrder refused; no order recorded',
  );
  await releaseLiveHolds(context, orderId);
  throw refusal;
}

/** The refusal booking gave a moment ago to as many seats of one of the cart's lines, if any (see SoldOutMemo). */
function knownRefusal(context: CheckoutContext, cart: readonly CartLine[]): DomainError | undefined {
  for (const line of cart) {
    const refusal = context.soldOut.refusal(line.ticketTypeId, line.quantity);
    if (refusal) return refusal;
  }
  return undefined;
}

/**
 * A refusal answered from the sold-out memo: this call priced and held nothing, so there is nothing to give back
 * (holds an earlier attempt of the key left lapse in booking by themselves), and nothing is recorded.
 */
function refuseAsKnown(
  context: CheckoutContext,
  orderId: string,
  refusal: DomainError,
  command: PlaceOrderCommand,
): never {
  context.logger.info(
    { orderId, userId: command.userId, kind: refusal.kind, reason: refusal.message },
    'PlaceOrder refused: not enough seats a moment ago; no order recorded',
  );
  throw refusal;
}

/** Releases the named holds of the order. If it fails, the holds still expire in booking by themselves. */
async function releaseQuietly(context: CheckoutContext, orderId: string, bookingIds: readonly string[]) {
  if (bookingIds.length === 0) return;
  try {
    await context.seats.release(orderId, bookingIds);
  } catch (error) {
    context.logger.warn(
      { err: error, orderId },
      'releasing the holds of a refused or failed order failed; they will expire',
    );
  }
}

/**
 * All items held: one transaction takes the cart's lock, checks that the cart still has every ordered line (a
 * concurrent placement of the same cart with another key may have taken it), creates the order, takes its lines
 * out of the cart and writes CREATED. A cart that changed fails the order instead.
 */
async function commitOrder(
  context: CheckoutContext,
  order: NewOrder,
  holds: readonly Hold[],
  command: PlaceOrderCommand,
): Promise<Order> {
  const created = await context.db.transaction(async (tx) => {
    await lockCart(tx, order.userId);
    if (!(await cartCovers(tx, order.userId, order.items))) return 'cart changed' as const;
    const stored = await insertOrder(tx, order);
    if (!stored) return 'exists' as const;
    await subtractFromCart(tx, order.userId, order.items);
    await recordOrderEvent(tx, context.config.ORDER_EVENTS_TOPIC, 'CREATED', stored);
    return stored;
  });
  if (created === 'cart changed') {
    const unheld = { ...order, items: order.items.map((item) => ({ ...item, bookingId: null })) };
    return recordFailed(context, unheld, cartChangedMeanwhile(), command, holds);
  }
  if (created === 'exists') return answerExisting(context, order.id, command, holds);
  context.eventsCommitted();
  return created;
}

/**
 * The cart changed under the key's holds (another key's placement took its lines, or an earlier attempt of the key
 * held a line the cart has no more). These stay recorded: unlike a refusal, this call holds every line, so a
 * concurrent call of the key could commit on those very holds, and only the row decides which of them wins. They
 * need the buyer's own overlapping attempts, so they stay rare whatever the demand.
 *
 * The order cannot be placed: it is recorded FAILED with its reason and event first, and only the call that
 * recorded it then releases every live hold of the order, whoever made it (this call, a call whose answer was lost,
 * an earlier attempt of the key). A call that finds the order already recorded answers it, giving back only what it
 * held itself and that order does not use, so concurrent calls of one key never release each other's holds.
 */
async function recordFailed(
  context: CheckoutContext,
  draft: NewOrder,
  refusal: DomainError,
  command: PlaceOrderCommand,
  holds: readonly Hold[],
): Promise<Order> {
  const failed: NewOrder = {
    ...draft,
    status: 'FAILED',
    failureReason: refusal.message,
    failureKind: refusal.kind,
  };
  const recorded = await context.db.transaction(async (tx) => {
    const stored = await insertOrder(tx, failed);
    if (!stored) return false;
    await recordOrderEvent(tx, context.config.ORDER_EVENTS_TOPIC, 'FAILED', stored);
    return true;
  });
  if (!recorded) return answerExisting(context, failed.id, command, holds);
  context.eventsCommitted();
  await releaseLiveHolds(context, failed.id);
  throw refusal;
}

/** Every live hold of a refused or FAILED order goes back (GetBookings, then ExpireBookings of the HELD ones). */
async function releaseLiveHolds(context: CheckoutContext, orderId: string): Promise<void> {
  let live: string[];
  try {
    live = (await context.seats.list(orderId)).filter((hold) => hold.status === 'HELD').map((hold) => hold.id);
  } catch (error) {
    context.logger.warn(
      { err: error, orderId },
      'listing the holds of a refused or failed order failed; they will expire',
    );
    return;
  }
  await releaseQuietly(context, orderId, live);
}

/**
 * Another call recorded the order first: answer it. The holds this call made that the order does not use (all of
 * them when it FAILED) would otherwise stay until they lapse, or be sold with the order without a ticket.
 */
async function answerExisting(
  context: CheckoutContext,
  orderId: string,
  command: PlaceOrderCommand,
  holds: readonly Hold[],
) {
  const existing = await findOrder(context.db, orderId);
  if (!existing) throw new Error(`order ${orderId} conflicted but cannot be found`);
  const used = new Set(existing.items.map((item) => item.bookingId));
  const unused = holds.filter((hold) => hold.status === 'HELD' && !used.has(hold.id)).map((hold) => hold.id);
  if (unused.length > 0) {
    context.logger.warn({ orderId, unused }, 'releasing holds of this call that the recorded order does not use');
    await releaseQuietly(context, orderId, unused);
  }
  return answerRepeat(existing, command);
}

/**
 * A repeated key answers what the first call answered: the order, or the reason a FAILED order recorded. The
 * same key with another email is a different request: ALREADY_EXISTS.
 */
function answerRepeat(existing: Order, command: PlaceOrderCommand): Order {
  if (existing.email !== command.email) {
    throw alreadyExists(`an order for idempotency_key ${command.idempotencyKey} with another email`);
  }
  if (existing.status === 'FAILED') {
    throw new DomainError(
      (existing.failureKind as ErrorKind | null) ?? 'failed_precondition',
      existing.failureReason ?? 'the order failed',
    );
  }
  return existing;
}
