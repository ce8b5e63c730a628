import { runService } from '@ticket/platform';
import { loadEventConfig } from './config.ts';
import { startEventService } from './service.ts';

await runService('event', loadEventConfig, startEventService);
