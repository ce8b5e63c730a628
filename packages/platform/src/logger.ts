import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** Service name, stamped on every line. */
  name: string;
  level: string;
  /** Human-readable output for a terminal; JSON lines otherwise (the default, for log shippers). */
  pretty?: boolean;
  /** Where JSON lines go; stdout by default. */
  destination?: DestinationStream;
}

export function createLogger({ name, level, pretty = false, destination }: LoggerOptions): Logger {
  const options = {
    level,
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Secrets that could ride along in logged objects (config, connection options).
    redact: {
      paths: [
        'password',
        '*.password',
        'DATABASE_URL',
        '*.DATABASE_URL',
        'SMTP_PASSWORD',
        '*.SMTP_PASSWORD',
        'AUTH_JWT_SECRET',
        '*.AUTH_JWT_SECRET',
      ],
      censor: '***',
    },
  };
  if (pretty)
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, singleLine: true } } });
  return destination ? pino(options, destination) : pino(options);
}
