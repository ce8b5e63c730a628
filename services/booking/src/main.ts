// First, so that it applies to the modules loaded after it: see module-hooks.ts.
import '@ticket/platform/module-hooks';

const { runService } = await import('@ticket/platform');
const { loadBookingConfig } = await import('./config.ts');
const { startBookingService } = await import('./service.ts');

await runService('booking', loadBookingConfig, startBookingService);
