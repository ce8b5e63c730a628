import type { TicketTypeInfo } from '../domain/order.ts';
import type { Catalog } from './context.ts';

/**
 * The catalog with the ticket types it answered kept for a moment (TICKET_TYPE_MEMO_MS). In a flash sale every
 * buyer adds the same ticket type to their cart and the winners price it again at PlaceOrder: without the memo each
 * of those is a call to the event service, which answers the same name and price thousands of times a second. A
 * change of name or price reaches carts and orders at most that moment late. Only ticket types found are kept, and
 * buyers asking for one the memo lacks share a single call.
 */
export function rememberTicketTypes(catalog: Catalog, windowMs: number, now: () => number = Date.now): Catalog {
  if (windowMs === 0) return catalog;
  const known = new Map<string, { ticketType: TicketTypeInfo; until: number }>();
  const asking = new Map<string, Promise<TicketTypeInfo>>();

  async function ask(ticketTypeId: string): Promise<TicketTypeInfo> {
    try {
      // No caller's signal: the call serves every buyer waiting for it (the client's deadline still bounds it).
      const ticketType = await catalog.getTicketType(ticketTypeId);
      forgetLapsed();
      known.set(ticketTypeId, { ticketType, until: now() + windowMs });
      return ticketType;
    } finally {
      asking.delete(ticketTypeId);
    }
  }

  /** Keeps the memo as small as the ticket types on sale this moment. */
  function forgetLapsed(): void {
    const at = now();
    for (const [id, { until }] of known) if (until <= at) known.delete(id);
  }

  return {
    ...catalog,
    getTicketType(ticketTypeId, signal) {
      signal?.throwIfAborted();
      const entry = known.get(ticketTypeId);
      if (entry && entry.until > now()) return Promise.resolve(entry.ticketType);
      let pending = asking.get(ticketTypeId);
      if (pending === undefined) {
        pending = ask(ticketTypeId);
        asking.set(ticketTypeId, pending);
      }
      return pending;
    },
  };
}
