import { findActiveTicketType } from '../db/event-repository.ts';
import { type TicketType, ticketTypeNotFound } from '../domain/event.ts';
import type { EventContext } from './context.ts';

/** GetTicket: a ticket type of a visible event. */
export async function getTicket(context: EventContext, id: string): Promise<TicketType> {
  const ticketType = await findActiveTicketType(context.db, id);
  if (!ticketType) throw ticketTypeNotFound(id);
  return ticketType;
}
