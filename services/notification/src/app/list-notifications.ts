import { invalidField } from '@ticket/platform';
import { listUserNotifications } from '../db/notification-repository.ts';
import type { Notification } from '../domain/notification.ts';
import { decodeCursor, encodeCursor } from '../domain/page-token.ts';
import type { NotificationContext } from './context.ts';

export interface NotificationList {
  notifications: Notification[];
  /** Empty on the last page. */
  nextPageToken: string;
}

/** One page of a user's notifications, newest first; `pageToken` is the previous page's next_page_token. */
export async function listNotifications(
  context: NotificationContext,
  userId: string,
  pageSize: number,
  pageToken: string,
): Promise<NotificationList> {
  const cursor = pageToken === '' ? undefined : decodeCursor(pageToken);
  if (pageToken !== '' && (cursor === undefined || cursor.userId !== userId)) {
    throw invalidField('page_token', "is not a next_page_token of this user's ListNotifications");
  }
  const page = await listUserNotifications(context.db, userId, cursor, pageSize);
  return { notifications: page.notifications, nextPageToken: page.next ? encodeCursor(page.next) : '' };
}
