import { type DomainError, resourceExhausted } from '@ticket/platform';

export interface SoldOutLine {
  ticketTypeId: string;
  ticketTypeName: string;
}

interface Refusal {
  ticketTypeName: string;
  /** The seats booking refused: fewer than this many were left. */
  asked: number;
  /** Booking's refusal, named after the ticket type, as the buyer got it. */
  message: string;
  /** Epoch ms until which it stands. */
  until: number;
}

/**
 * Booking's recent "not enough seats" answers, per ticket type, kept for a moment (SOLD_OUT_MEMO_MS). In a flash
 * sale most buyers arrive after the last seat went: each would otherwise cost a price lookup at event, a hold
 * attempt and a look at the order's holds at booking, only to hear the same refusal. A buyer asking at least as
 * many seats as a refused one within the moment gets that refusal at once. A seat that comes back meanwhile (a
 * hold lapsing or released) is offered again when the moment ends, so a buyer waits at most that long for it;
 * fewer seats than were refused still go to booking, which alone decides.
 */
export class SoldOutMemo {
  readonly #refusals = new Map<string, Refusal>();
  readonly #windowMs: number;
  readonly #now: () => number;

  constructor(windowMs: number, now: () => number = Date.now) {
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** Booking refused `asked` seats of the ticket type with `refusal` (named after the ticket type). */
  remember({ ticketTypeId, ticketTypeName }: SoldOutLine, asked: number, refusal: DomainError): void {
    if (this.#windowMs === 0 || refusal.kind !== 'resource_exhausted') return;
    const known = this.#refusals.get(ticketTypeId);
    const until = this.#now() + this.#windowMs;
    // The smallest refused ask says the most: fewer than that many are left.
    if (known && known.until > this.#now() && known.asked < asked) return;
    this.#refusals.set(ticketTypeId, { ticketTypeName, asked, message: refusal.message, until });
  }

  /** The refusal that `seats` of the ticket type would get from booking now, if one is remembered. */
  refusal(ticketTypeId: string, seats: number): DomainError | undefined {
    const known = this.#refusals.get(ticketTypeId);
    if (!known) return undefined;
    if (known.until <= this.#now()) {
      this.#refusals.delete(ticketTypeId);
      return undefined;
    }
    if (seats < known.asked) return undefined;
    if (seats === known.asked) return resourceExhausted(known.message);
    return resourceExhausted(
      `${known.ticketTypeName}: not enough seats: asked for ${seats}, fewer than ${known.asked} left`,
    );
  }
}
