/**
 * Domain errors carry a kind that says what the caller can do about them.
 * The gRPC error middleware turns the kind into a status code; nothing else does.
 */
export type ErrorKind =
  | 'invalid_argument'
  | 'not_found'
  | 'already_exists'
  | 'failed_precondition'
  | 'resource_exhausted'
  | 'permission_denied'
  | 'unauthenticated'
  | 'unavailable';

/** One bad field of a request, named by its path in the request (`ticket_types[0].price.currency`). */
export interface FieldViolation {
  field: string;
  description: string;
}

export class DomainError extends Error {
  readonly kind: ErrorKind;
  readonly fieldViolations: readonly FieldViolation[];

  constructor(kind: ErrorKind, message: string, fieldViolations: readonly FieldViolation[] = []) {
    super(message);
    this.name = 'DomainError';
    this.kind = kind;
    this.fieldViolations = fieldViolations;
  }
}

export const invalidArgument = (violations: readonly FieldViolation[]): DomainError =>
  new DomainError('invalid_argument', violations.map((v) => `${v.field}: ${v.description}`).join('; '), violations);

export const invalidField = (field: string, description: string): DomainError =>
  invalidArgument([{ field, description }]);

export const notFound = (what: string): DomainError => new DomainError('not_found', `${what} not found`);

export const alreadyExists = (what: string): DomainError => new DomainError('already_exists', `${what} already exists`);

export const failedPrecondition = (message: string): DomainError => new DomainError('failed_precondition', message);

export const resourceExhausted = (message: string): DomainError => new DomainError('resource_exhausted', message);

export const unavailable = (message: string): DomainError => new DomainError('unavailable', message);

export const isDomainError = (error: unknown): error is DomainError => error instanceof DomainError;
