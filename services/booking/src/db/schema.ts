import { outboxTable } from '@ticket/platform/tables';
import { pgSchema } from 'drizzle-orm/pg-core';

/** Everything the booking service stores lives in this schema; no other service reads it. */
export const bookingSchema = pgSchema('booking');

/** Hold-expired events, written with the expiry that they announce. */
export const outbox = outboxTable(bookingSchema);
