import type { NotificationServiceImplementation } from '@ticket/contracts/v1/notification/notification_service';
import { type AuthContext, parseRequest, requireCaller } from '@ticket/platform';
import type { NotificationContext } from '../app/context.ts';
import { listNotifications } from '../app/list-notifications.ts';
import { toNotificationMessage } from '../mapping.ts';
import { listNotificationsRequest } from './requests.ts';

/**
 * The NotificationService port: validate, check that the caller asks for their own notifications, call the use case,
 * map back. The auth middleware has already rejected calls without a valid token (UNAUTHENTICATED).
 */
export function notificationService(context: NotificationContext): NotificationServiceImplementation<AuthContext> {
  return {
    async listNotifications(request, callContext) {
      const { userId, pageSize, pageToken } = parseRequest(listNotificationsRequest, request);
      requireCaller(callContext, userId);
      const page = await listNotifications(context, userId, pageSize, pageToken);
      return { notifications: page.notifications.map(toNotificationMessage), nextPageToken: page.nextPageToken };
    },
  };
}
