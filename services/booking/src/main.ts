import { ConfigError, createLogger, onShutdownSignal } from '@ticket/platform';
import { loadBookingConfig } from './config.ts';
import { startBookingService } from './service.ts';

try {
  const config = loadBookingConfig();
  const logger = createLogger({ name: 'booking', level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
  const service = await startBookingService(config, logger);
  onShutdownSignal(service.closers, logger);
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}
