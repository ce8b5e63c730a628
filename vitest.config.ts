import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/{src,test}/**/*.test.ts', 'services/*/{src,test}/**/*.test.ts'],
    // One real Kafka broker for the whole run; every test file makes its own database and topics.
    globalSetup: ['packages/platform/src/testing/global-setup.ts'],
    pool: 'forks',
    // As a service's main.ts does: drizzle-orm loads in a tenth of the time and memory (see module-hooks.ts).
    execArgv: ['--import', join(import.meta.dirname, 'packages/platform/src/module-hooks.ts')],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
