import { runService } from '@ticket/platform';
import { loadCheckoutConfig } from './config.ts';
import { startCheckoutService } from './service.ts';

await runService('checkout', loadCheckoutConfig, startCheckoutService);
