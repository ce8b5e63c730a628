import type { z } from 'zod';
import { type FieldViolation, invalidArgument } from '../errors.ts';

/**
 * Parses a request (as ts-proto decoded it) with a zod schema. Returns the parsed value, or throws an
 * INVALID_ARGUMENT `DomainError` naming every bad field by its proto path (`ticket_types[0].price.currency`),
 * which the error middleware sends both in the message and as a google.rpc.BadRequest detail.
 */
export function parseRequest<Schema extends z.ZodType>(schema: Schema, request: unknown): z.output<Schema> {
  // reportInput only so that a missing field can be told from a wrong one; the input never reaches the message.
  const result = schema.safeParse(request, { reportInput: true });
  if (result.success) return result.data;
  // One violation per field: '' for an idempotency key fails both "required" and "printable"; the first says it.
  const byField = new Map<string, FieldViolation>();
  for (const violation of result.error.issues.map(toFieldViolation)) {
    if (!byField.has(violation.field)) byField.set(violation.field, violation);
  }
  throw invalidArgument([...byField.values()]);
}

function toFieldViolation(issue: z.core.$ZodIssue): FieldViolation {
  const missing = issue.code === 'invalid_type' && issue.input === undefined;
  return { field: protoPath(issue.path), description: missing ? 'is required' : issue.message };
}

/**
 * ts-proto names fields in camelCase; callers know them by their proto names.
 * `['ticketTypes', 0, 'price', 'currency']` → `ticket_types[0].price.currency`. An issue about the request as a
 * whole (a refinement without a path) is named `request`. Map keys would be snake_cased too (no map fields yet).
 */
export function protoPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'request';
  let result = '';
  for (const segment of path) {
    if (typeof segment === 'number') result += `[${segment}]`;
    else result += `${result === '' ? '' : '.'}${snakeCase(String(segment))}`;
  }
  return result;
}

const snakeCase = (name: string): string => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
