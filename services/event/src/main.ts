// First, so that it applies to the modules loaded after it: see module-hooks.ts.
import '@ticket/platform/module-hooks';

const { runService } = await import('@ticket/platform');
const { loadEventConfig } = await import('./config.ts');
const { startEventService } = await import('./service.ts');

await runService('event', loadEventConfig, startEventService);
