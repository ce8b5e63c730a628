import { type Logger, pino } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** Service name, stamped on every line. */
  name: string;
  level: string;
  /** Human-readable output for a terminal; JSON otherwise (the default, for log shippers). */
  pretty?: boolean;
}

export function createLogger({ name, level, pretty = false }: LoggerOptions): Logger {
  return pino({
    name,
    level,
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, singleLine: true } } } : {}),
  });
}
