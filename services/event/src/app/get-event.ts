import { findActiveEvent } from '../db/event-repository.ts';
import { type Event, eventNotFound } from '../domain/event.ts';
import type { EventContext } from './context.ts';

/** GetEvent: a visible (ACTIVE) event with its location and ticket types. */
export async function getEvent(context: EventContext, id: string): Promise<Event> {
  const event = await findActiveEvent(context.db, id);
  if (!event) throw eventNotFound(id);
  return event;
}
