import { runService } from '@ticket/platform';
import { loadNotificationConfig } from './config.ts';
import { startNotificationService } from './service.ts';

await runService('notification', loadNotificationConfig, startNotificationService);
