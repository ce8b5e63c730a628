import type { Database, Logger } from '@ticket/platform';
import type { NotificationConfig } from '../config.ts';

/** What the use cases need, built once by the composition root. */
export interface NotificationContext {
  db: Database<Record<string, unknown>>;
  config: Pick<NotificationConfig, 'NOTIFICATION_CHANNEL'>;
  logger: Logger;
}
