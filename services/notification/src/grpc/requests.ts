import { field } from '@ticket/platform';
import { z } from 'zod';

// What a valid request is, per RPC. parseRequest names every bad field by its proto path.

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export const listNotificationsRequest = z.object({
  userId: field.nonEmptyString(128),
  pageSize: field.pageSize({ fallback: DEFAULT_PAGE_SIZE, max: MAX_PAGE_SIZE }),
  pageToken: z.string().max(1_000, { error: 'is not a next_page_token of ListNotifications' }),
});
