import type { Logger } from '@ticket/platform';
import type { OutgoingMessage } from '../domain/notification.ts';
import type { Sender } from './sender.ts';

/** Development channel: the rendered message goes to the service log instead of a mailbox. */
export function createLogSender(logger: Logger): Sender {
  return {
    async send(message: OutgoingMessage) {
      logger.info(
        {
          notificationId: message.id,
          orderId: message.orderId,
          kind: message.kind,
          recipient: message.recipient,
          subject: message.subject,
          text: message.bodyText,
        },
        'notification (log channel)',
      );
    },
    close() {},
  };
}
