import { pgSchema } from 'drizzle-orm/pg-core';

/** Everything the event service stores lives in this schema; no other service reads it. */
export const eventSchema = pgSchema('event');
