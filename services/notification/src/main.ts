// First, so that it applies to the modules loaded after it: see module-hooks.ts.
import '@ticket/platform/module-hooks';

const { runService } = await import('@ticket/platform');
const { loadNotificationConfig } = await import('./config.ts');
const { startNotificationService } = await import('./service.ts');

await runService('notification', loadNotificationConfig, startNotificationService);
