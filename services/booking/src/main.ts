import { runService } from '@ticket/platform';
import { loadBookingConfig } from './config.ts';
import { startBookingService } from './service.ts';

await runService('booking', loadBookingConfig, startBookingService);
