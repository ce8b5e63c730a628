import { processedEventsTable } from '@ticket/platform/tables';
import { pgSchema } from 'drizzle-orm/pg-core';

/** Everything the notification service stores lives in this schema; no other service reads it. */
export const notificationSchema = pgSchema('notification');

/** Order events already handled, so a redelivered event sends nothing twice. */
export const processedEvents = processedEventsTable(notificationSchema);
