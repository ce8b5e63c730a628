import { ClientError, ServerError, type ServerMiddleware, Status } from 'nice-grpc-common';
import { BadRequest, RichServerError } from 'nice-grpc-error-details';
import { type DomainError, type ErrorKind, isDomainError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { isTransientError } from '../transient.ts';

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
  if (cancelled) {
    logger.debug({ err: error, method }, 'error after the call was cancelled');
    return new ServerError(Status.CANCELLED, 'The operation was cancelled');
  }
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

/**
 * A dependency is down, or the work was rolled back and can simply be sent again: the platform's transient-error
 * test (Postgres connection errors and SQLSTATEs, kafkajs), plus UNAVAILABLE or DEADLINE_EXCEEDED from a call to
 * another service.
 */
export function isDependencyUnavailable(error: unknown): boolean {
  if (error instanceof ClientError) {
    return error.code === Status.UNAVAILABLE || error.code === Status.DEADLINE_EXCEEDED;
  }
  return isTransientError(error);
}

/** The status code's name as the client receives it (`NOT_FOUND`), for logs and metrics; an abort is CANCELLED. */
export function statusName(error: unknown): string {
  if (error instanceof ServerError) return Status[error.code] ?? String(error.code);
  if (isAbortError(error)) return 'CANCELLED';
  return 'UNKNOWN';
}
