import type { Executor } from '@ticket/platform';
import { insertNotifications, type NewNotification } from '../db/notification-repository.ts';
import { recipientOf } from '../domain/notification.ts';
import { changeKeyOf, type OrderChange } from '../domain/order-change.ts';
import { renderNotification } from '../templates/index.ts';
import type { NotificationContext } from './context.ts';

/**
 * Records the notification announcing an order change, in the consumer's transaction (so it exists if and only if
 * the event counts as processed). It is only rendered and stored here, PENDING; the delivery loop sends it after the
 * commit, so a slow or down SMTP server never holds up the partition. An order without a usable email address gets a
 * SKIPPED row on the log channel: visible in ListNotifications, never sent. Returns false when this order already
 * has a notification of this change (the same change under a new event id; see changeKeyOf).
 */
export async function recordNotification(
  context: NotificationContext,
  tx: Executor,
  change: OrderChange,
): Promise<boolean> {
  const [inserted] = await recordNotifications(context, tx, [change]);
  return inserted ?? false;
}

/**
 * recordNotification for several changes, in order, with one INSERT (the consumer hands over a batch of events):
 * returns for each whether it was recorded.
 */
export async function recordNotifications(
  context: NotificationContext,
  tx: Executor,
  changes: readonly OrderChange[],
): Promise<boolean[]> {
  const inserted = await insertNotifications(
    tx,
    changes.map((change) => notificationRowOf(context, change)),
  );
  return changes.map((change) => {
    const recorded = inserted.has(change.eventId);
    const log = { orderId: change.orderId, kind: change.kind, eventId: change.eventId };
    const recipient = recipientOf(change.email);
    if (!recorded) context.logger.info(log, 'order change already notified; event ignored');
    else if (recipient.kind === 'none') {
      context.logger.warn({ ...log, reason: recipient.reason }, 'notification skipped');
    }
    return recorded;
  });
}

/** The row announcing a change: rendered and PENDING, or SKIPPED on the log channel without a usable address. */
function notificationRowOf(context: NotificationContext, change: OrderChange): NewNotification {
  const message = renderNotification(change);
  const recipient = recipientOf(change.email);
  const base = {
    userId: change.userId,
    orderId: change.orderId,
    sourceEventId: change.eventId,
    kind: change.kind,
    changeKey: changeKeyOf(change),
    subject: message.subject,
    bodyText: message.text,
    bodyHtml: message.html,
  } satisfies Partial<NewNotification>;
  return recipient.kind === 'none'
    ? { ...base, channel: 'LOG', status: 'SKIPPED', recipient: '', lastError: recipient.reason }
    : {
        ...base,
        channel: context.config.NOTIFICATION_CHANNEL === 'email' ? 'EMAIL' : 'LOG',
        status: 'PENDING',
        recipient: recipient.address,
      };
}
