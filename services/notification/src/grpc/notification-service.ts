import {
  NotificationServiceDefinition,
  type NotificationServiceImplementation,
} from '@ticket/contracts/v1/notification/notification_service';
import { type AuthContext, access, accessPolicy, parseRequest, requireActingUser } from '@ticket/platform';
import type { NotificationContext } from '../app/context.ts';
import { listNotifications } from '../app/list-notifications.ts';
import { toNotificationMessage } from '../mapping.ts';
import { listNotificationsRequest } from './requests.ts';

/** Who may call what: any user, for their own notifications (an admin for anyone's; the handler checks which). */
export const notificationAccess = accessPolicy(NotificationServiceDefinition, {
  listNotifications: access.anyUser,
});

/**
 * The NotificationService port: validate, check that the caller asks for their own notifications (or is an admin),
 * call the use case, map back. The auth middleware has already rejected calls without a valid user token
 * (UNAUTHENTICATED).
 */
export function notificationService(context: NotificationContext): NotificationServiceImplementation<AuthContext> {
  return {
    async listNotifications(request, callContext) {
      const { userId, pageSize, pageToken } = parseRequest(listNotificationsRequest, request);
      requireActingUser(callContext.caller, userId);
      const page = await listNotifications(context, userId, pageSize, pageToken);
      return { notifications: page.notifications.map(toNotificationMessage), nextPageToken: page.nextPageToken };
    },
  };
}
