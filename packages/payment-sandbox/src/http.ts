import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { PaymentError, type PaymentErrorType } from './payments.ts';

// The small HTTP toolkit the routes need, on node:http alone.

/** What a route answers: JSON (the API) or HTML (the pay page). */
export type Reply = { status: number; json: unknown } | { status: number; html: string };

export const ERROR_STATUS: Record<PaymentErrorType, number> = {
  invalid_request: 400,
  amount_too_large: 400,
  unauthorized: 401,
  not_found: 404,
  idempotency_conflict: 409,
  payment_already_succeeded: 409,
  payment_not_refundable: 409,
  refunds_unavailable: 503,
};

/** Far more than any request of this API; a bigger body is refused unread. */
const MAX_BODY_BYTES = 64 * 1024;

export function send(response: ServerResponse, reply: Reply): void {
  const [type, body] =
    'json' in reply ? ['application/json', JSON.stringify(reply.json)] : ['text/html; charset=utf-8', reply.html];
  response.writeHead(reply.status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/** The API's error body, `{ error: { type, message } }`, with the status its type calls for. */
export function errorReply(error: PaymentError): Reply {
  return { status: ERROR_STATUS[error.type], json: { error: { type: error.type, message: error.message } } };
}

export async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new PaymentError('invalid_request', `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The body as JSON, checked against `schema`; 400 naming what is wrong. With `acceptForm` (the pay page), an HTML
 * form post is read as its fields; the API reads JSON whatever the content type says (`curl -d` says form).
 */
export async function parseBody<Schema extends z.ZodType>(
  request: IncomingMessage,
  schema: Schema,
  { acceptForm = false } = {},
): Promise<z.infer<Schema>> {
  const text = await readBody(request);
  const fields = acceptForm && isForm(request) ? Object.fromEntries(new URLSearchParams(text)) : parseJson(text);
  const result = schema.safeParse(fields);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`);
  throw new PaymentError('invalid_request', problems.join('; '));
}

const isForm = (request: IncomingMessage): boolean =>
  (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');

function parseJson(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new PaymentError('invalid_request', 'the body is not JSON');
  }
}

export function idempotencyKey(request: IncomingMessage): string {
  const key = request.headers['idempotency-key'];
  if (typeof key !== 'string' || key.length === 0 || key.length > 255) {
    throw new PaymentError('invalid_request', 'an Idempotency-Key header (1 to 255 characters) is required');
  }
  return key;
}

/** `Authorization: Bearer <apiKey>`, compared in constant time (over digests, as the lengths may differ). */
export function assertAuthorized(request: IncomingMessage, apiKey: string): void {
  const given = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
  if (!timingSafeEqual(sha256(given), sha256(apiKey))) {
    throw new PaymentError('unauthorized', 'a valid API key is required: Authorization: Bearer <key>');
  }
}

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();
