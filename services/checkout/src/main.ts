// First, so that it applies to the modules loaded after it: see module-hooks.ts.
import '@ticket/platform/module-hooks';

const { runService } = await import('@ticket/platform');
const { loadCheckoutConfig } = await import('./config.ts');
const { startCheckoutService } = await import('./service.ts');

await runService('checkout', loadCheckoutConfig, startCheckoutService);
