/**
 * Errors that say a dependency (Postgres, Kafka) is down or briefly refused the work, not that the
 * request or message was wrong: the same work is worth trying again later. gRPC answers them with
 * UNAVAILABLE; consumers retry them without ever dead-lettering the message.
 */
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

// SQLSTATEs: connection exceptions (class 08), admin/crash shutdown, cannot connect now,
// serialization failure and deadlock (both safe to retry as a whole).
const RETRYABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '40001', '40P01', '53300']);

const TRANSIENT_KAFKAJS_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSRequestTimeoutError',
]);

export function isTransientError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, retriable, name, cause } = error as {
    code?: unknown;
    retriable?: unknown;
    name?: unknown;
    cause?: unknown;
  };
  if (typeof code === 'string') {
    if (NETWORK_ERROR_CODES.has(code)) return true;
    if (code.startsWith('CONNECTION_') || code === 'CONNECT_TIMEOUT') return true; // postgres.js's own codes
    if (code.startsWith('08') && code.length === 5) return true;
    if (RETRYABLE_SQLSTATES.has(code)) return true;
  }
  if (retriable === true) return true; // kafkajs marks broker-side transient errors
  if (typeof name === 'string' && TRANSIENT_KAFKAJS_ERRORS.has(name)) return true;
  if (error instanceof AggregateError) return error.errors.some(isTransientError);
  return cause !== undefined && cause !== error && isTransientError(cause);
}
