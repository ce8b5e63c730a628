import type { Database, DomainError, Logger } from '@ticket/platform';
import type { CheckoutConfig } from '../config.ts';
import type { Hold, TicketTypeInfo } from '../domain/order.ts';
import type { PaymentProvider } from '../payments/provider.ts';
import type { SoldOutMemo } from './sold-out-memo.ts';

/** The event service as checkout needs it. */
export interface Catalog {
  /** The ticket type, or a NOT_FOUND DomainError naming it. */
  getTicketType(ticketTypeId: string, signal?: AbortSignal): Promise<TicketTypeInfo>;
  /**
   * Who may refund an event's tickets, asked with the caller's `authorization` header: the organizer's id when the
   * caller is the organizer or an admin (undefined otherwise), and until when buyers may refund.
   */
  refundTerms(eventId: string, authorization: string | undefined): Promise<RefundTerms>;
}

export interface RefundTerms {
  organizerId: string | undefined;
  refundableUntil: Date | undefined;
}

export interface HoldRequest {
  orderId: string;
  userId: string;
  eventId: string;
  ticketTypeId: string;
  seats: number;
  idempotencyKey: string;
}

/** Booking's answer to a hold: the hold, or a refusal that is final for this order (sold out, no stock). */
export type HoldOutcome = { hold: Hold } | { refused: DomainError };

/** The booking service as checkout needs it. Transport failures (UNAVAILABLE, deadlines) are thrown. */
export interface SeatLedger {
  hold(request: HoldRequest, signal?: AbortSignal): Promise<HoldOutcome>;
  /** Releases the named live holds of the order (and only those); returns the ones this call released. */
  release(orderId: string, bookingIds: readonly string[], signal?: AbortSignal): Promise<Hold[]>;
  /** Sells all the order's holds, or none: `unpayable` when one of them expired or was released. */
  sell(orderId: string, signal?: AbortSignal): Promise<{ sold: Hold[] } | { unpayable: string }>;
  /** The order's bookings, ended ones included. */
  list(orderId: string, signal?: AbortSignal): Promise<Hold[]>;
  /** Puts sold seats of the order back on sale (a refund), once per `idempotencyKey`. */
  returnSold(
    orderId: string,
    seats: readonly { eventId: string; ticketTypeId: string; seats: number }[],
    idempotencyKey: string,
    signal?: AbortSignal,
  ): Promise<void>;
}

/** What the use cases need, built once by the composition root (tests may swap the other services' clients). */
export interface CheckoutContext {
  db: Database<Record<string, unknown>>;
  config: Pick<
    CheckoutConfig,
    | 'MAX_SEATS_PER_ORDER'
    | 'HOLD_PARALLELISM'
    | 'ORDER_EVENTS_TOPIC'
    | 'EXPIRY_CHECK_GRACE_SECONDS'
    | 'EXPIRY_CHECK_BATCH_SIZE'
  >;
  logger: Logger;
  catalog: Catalog;
  seats: SeatLedger;
  /** Booking's recent sold-out answers (SOLD_OUT_MEMO_MS). */
  soldOut: SoldOutMemo;
  /** The payment service provider (PAYMENT_PROVIDER). */
  payments: PaymentProvider;
  /** Called after a transaction that wrote events commits, so the outbox relay publishes them now. */
  eventsCommitted(): void;
}
