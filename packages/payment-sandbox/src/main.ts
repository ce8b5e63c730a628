#!/usr/bin/env node
// The sandbox payment provider as its own process (`make up` starts it): config from the environment, JSON logs,
// a clean stop on SIGTERM or SIGINT (pending webhooks stay in the state file for the next start).

// First, so that it applies to the modules loaded after it: the platform barrel loads drizzle-orm (see module-hooks.ts).
import '@ticket/platform/module-hooks';

const { runService } = await import('@ticket/platform');
const { loadPaymentSandboxConfig } = await import('./config.ts');
const { startPaymentSandbox } = await import('./server.ts');

await runService(
  'payment-sandbox',
  () => loadPaymentSandboxConfig(),
  async (config, logger) => {
    const sandbox = await startPaymentSandbox(config, { logger });
    return { closers: [{ name: 'payment sandbox', close: () => sandbox.stop() }] };
  },
);
