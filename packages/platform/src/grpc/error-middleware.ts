import { ClientError, type ServerMiddleware, ServerError, Status } from 'nice-grpc-common';
import { BadRequest, RichServerError } from 'nice-grpc-error-details';
import { type DomainError, type ErrorKind, isDomainError } from '../errors.ts';
import type { Logger } from '../logger.ts';

const statusOfKind: Record<ErrorKind, Status> = {
  invalid_argument: Status.INVALID_ARGUMENT,
  not_found: Status.NOT_FOUND,
  already_exists: Status.ALREADY_EXISTS,
  failed_precondition: Status.FAILED_PRECONDITION,
  resource_exhausted: Status.RESOURCE_EXHAUSTED,
  permission_denied: Status.PERMISSION_DENIED,
  unauthenticated: Status.UNAUTHENTICATED,
  unavailable: Status.UNAVAILABLE,
};

/** What the caller reads when a dependency is down: it says "retry", never what broke inside. */
export const UNAVAILABLE_MESSAGE = 'service temporarily unavailable, retry later';
export const INTERNAL_MESSAGE = 'internal error';

/**
 * The one place where errors become gRPC statuses (nice-grpc turns anything that is not a `ServerError` into
 * UNKNOWN). Attach it after `errorDetailsServerMiddleware`, which must wrap it to send the BadRequest detail.
 */
export function createErrorMiddleware(logger: Logger): ServerMiddleware {
  return async function* errorMiddleware(call, context) {
    try {
      return yield* call.next(call.request, context);
    } catch (error) {
      throw toServerError(error, { method: call.method.path, cancelled: context.signal.aborted, logger });
    }
  };
}

interface CallFacts {
  method: string;
  /** The client cancelled or its deadline passed: nobody reads the status any more. */
  cancelled: boolean;
  logger: Logger;
}

export function toServerError(error: unknown, { method, cancelled, logger }: CallFacts): unknown {
  if (error instanceof ServerError) return error;
  // nice-grpc answers an AbortError with CANCELLED; grpc-js has already answered DEADLINE_EXCEEDED on deadline.
  if (isAbortError(error)) return error;
  if (cancelled) return new ServerError(Status.CANCELLED, 'The operation was cancelled');
  if (isDomainError(error)) return domainToServerError(error);
  if (isDependencyUnavailable(error)) {
    logger.warn({ err: error, method }, 'dependency unavailable');
    return new ServerError(Status.UNAVAILABLE, UNAVAILABLE_MESSAGE);
  }
  logger.error({ err: error, method }, 'unexpected error in gRPC handler');
  return new ServerError(Status.INTERNAL, INTERNAL_MESSAGE);
}

function domainToServerError(error: DomainError): ServerError {
  const code = statusOfKind[error.kind];
  if (error.fieldViolations.length === 0) return new ServerError(code, error.message);
  const unnamed = error.fieldViolations.filter((v) => !error.message.includes(v.field));
  const message =
    unnamed.length === 0
      ? error.message
      : `${error.message}: ${unnamed.map((v) => `${v.field}: ${v.description}`).join('; ')}`;
  return new RichServerError(code, message, [
    BadRequest.fromPartial({
      fieldViolations: error.fieldViolations.map(({ field, description }) => ({ field, description })),
    }),
  ]);
}

/** What `AbortSignal`-aware code throws (DOMException or abort-controller-x's AbortError). */
export function isAbortError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}

/** Socket-level failures (Node), postgres.js connection failures. */
const transientCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);

/**
 * SQLSTATEs after which the same request can simply be sent again:
 * 08xxx connection exception; 57P01-57P03 the server is shutting down or starting;
 * 53300 too many connections; 40001 serialization failure and 40P01 deadlock (the transaction was rolled back).
 */
const transientSqlState = /^(08[0-9A-Z]{3}|57P0[123]|53300|40001|40P01)$/;

/**
 * True when the error says a dependency is down or the work was rolled back and is safe to retry.
 * Follows `cause` (drizzle wraps driver errors in `DrizzleQueryError`) and `errors` (`AggregateError` from
 * Node's happy-eyeballs connect), and treats UNAVAILABLE/DEADLINE_EXCEEDED from a downstream gRPC call the same way.
 */
export function isDependencyUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 5) return false;
  if (error instanceof ClientError) {
    return error.code === Status.UNAVAILABLE || error.code === Status.DEADLINE_EXCEEDED;
  }
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && (transientCodes.has(code) || transientSqlState.test(code))) return true;
  if (isDependencyUnavailable(cause, depth + 1)) return true;
  return Array.isArray(errors) && errors.some((inner) => isDependencyUnavailable(inner, depth + 1));
}
