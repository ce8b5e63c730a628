import { type CommonConfig, ConfigError } from './config.ts';
import { createDatabase, type Database } from './db/client.ts';
import { migrateSchema } from './db/migrate.ts';
import { type Closer, closeInOrder, onShutdownSignal } from './grpc/shutdown.ts';
import { createLogger, type Logger } from './logger.ts';

// What every service's composition root and main.ts do the same way.

/** A started service: its bound port, its use-case context (tests reach in), and how to stop it. */
export interface RunningService<Context> {
  /** The bound gRPC port (GRPC_PORT=0 picks a free one). */
  port: number;
  context: Context;
  /** In reverse start order: what a shutdown closes. */
  closers: Closer[];
  stop(): Promise<void>;
}

export function runningService<Context>(
  port: number,
  context: Context,
  closers: Closer[],
  logger: Logger,
): RunningService<Context> {
  return { port, context, closers, stop: async () => void (await closeInOrder(closers, logger)) };
}

export interface ServiceDatabaseOptions {
  /** Application name Postgres shows for the connections: the service's name. */
  name: string;
  schema: string;
  migrationsFolder: string;
}

/** The service's connection pool, after applying its migrations when MIGRATE_ON_START asks for it. */
export async function openServiceDatabase(
  config: Pick<CommonConfig, 'DATABASE_URL' | 'DATABASE_POOL_SIZE' | 'MIGRATE_ON_START'>,
  { name, schema, migrationsFolder }: ServiceDatabaseOptions,
  logger: Logger,
): Promise<Database> {
  if (config.MIGRATE_ON_START) await migrateSchema({ url: config.DATABASE_URL, schema, migrationsFolder });
  return createDatabase({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: name,
    logger,
  });
}

/**
 * A service's main: configuration from the environment, the logger, start, and a clean shutdown on SIGTERM or
 * SIGINT. A bad configuration prints the one message naming every bad variable and exits 1.
 */
export async function runService<Config extends Pick<CommonConfig, 'LOG_LEVEL' | 'LOG_PRETTY'>>(
  name: string,
  loadConfig: () => Config,
  start: (config: Config, logger: Logger) => Promise<{ closers: Closer[] }>,
): Promise<void> {
  try {
    const config = loadConfig();
    const logger = createLogger({ name, level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
    logProcessWarnings(logger);
    const service = await start(config, logger);
    onShutdownSignal(service.closers, logger);
  } catch (error) {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(1);
  }
}

/**
 * Node prints process warnings to stderr as plain text, in the middle of a service's JSON log: they go through the
 * logger instead. One is dropped: kafkajs 2.2.4 arms timers with a negative delay on Node 24 (tulios/kafkajs#1751),
 * which Node runs after 1 ms, the "now" kafkajs meant, and warns about on every connection.
 */
export function logProcessWarnings(logger: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name === 'TimeoutNegativeWarning') return;
    logger.warn({ warning: warning.name, err: warning }, warning.message);
  });
}
