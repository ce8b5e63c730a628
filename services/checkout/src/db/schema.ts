import { outboxTable, processedEventsTable } from '@ticket/platform/tables';
import { pgSchema } from 'drizzle-orm/pg-core';

/** Everything the checkout service stores lives in this schema; no other service reads it. */
export const checkoutSchema = pgSchema('checkout');

/** Order events, written with the order change that they announce. */
export const outbox = outboxTable(checkoutSchema);

/** Booking events already applied (hold expiries), so a redelivery changes nothing. */
export const processedEvents = processedEventsTable(checkoutSchema);
