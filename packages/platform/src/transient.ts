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

// SQLSTATE classes that say "not now" rather than "never": connection exceptions (08), transaction
// rollbacks such as serialization failures and deadlocks (40), insufficient resources (53).
const RETRYABLE_SQLSTATE_CLASSES = new Set(['08', '40', '53']);
// And single states: a lock or object busy, a statement timeout, admin/crash shutdown, cannot connect now,
// system I/O errors, and a read-only transaction (a replica during failover).
const RETRYABLE_SQLSTATES = new Set(['55P03', '55006', '57014', '57P01', '57P02', '57P03', '58000', '58030', '25006']);

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
    if (code.length === 5 && RETRYABLE_SQLSTATE_CLASSES.has(code.slice(0, 2))) return true;
    if (RETRYABLE_SQLSTATES.has(code)) return true;
  }
  if (retriable === true) return true; // kafkajs marks broker-side transient errors
  if (typeof name === 'string' && TRANSIENT_KAFKAJS_ERRORS.has(name)) return true;
  if (error instanceof AggregateError) return error.errors.some(isTransientError);
  return cause !== undefined && cause !== error && isTransientError(cause);
}
