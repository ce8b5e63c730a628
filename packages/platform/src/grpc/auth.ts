import { jwtVerify, SignJWT } from 'jose';
import type { CallContext, ServerMiddleware } from 'nice-grpc-common';
import { DomainError } from '../errors.ts';

/** What the auth middleware adds to a handler's call context: the authenticated caller. */
export interface AuthContext {
  /** The `sub` of the caller's verified token. */
  callerId: string;
}

export interface AuthOptions {
  /** HS256 secret shared with whoever issues the tokens; at least 32 characters (256 bits of key for HS256). */
  secret: string;
}

/** RFC 7518 asks for a key at least as long as the hash output: 32 bytes for HS256. */
export const MIN_SECRET_LENGTH = 32;

const ALGORITHM = 'HS256';
const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * Authenticates every call to the added services (health and reflection stay open, see createGrpcServer): the
 * `authorization: Bearer <JWT>` metadata must carry an HS256 token signed with `secret`, unexpired, with a `sub`.
 * The handler then finds the caller's id as `context.callerId`. Anything else is UNAUTHENTICATED, with a message
 * that says what is wrong but never echoes the token.
 */
export function createAuthMiddleware({ secret }: AuthOptions): ServerMiddleware<AuthContext> {
  const key = secretKey(secret);
  return async function* authMiddleware(call, context) {
    const callerId = await authenticate(context, key);
    return yield* call.next(call.request, { ...context, callerId });
  };
}

async function authenticate(context: CallContext, key: Uint8Array): Promise<string> {
  const header = context.metadata.get('authorization');
  if (header === undefined) throw unauthenticated('missing authorization metadata (Bearer token)');
  const token = BEARER.exec(header)?.[1];
  if (token === undefined) throw unauthenticated('authorization metadata must be "Bearer <token>"');
  let subject: string | undefined;
  try {
    // A token without an expiry would be good forever: refuse it.
    const { payload } = await jwtVerify(token, key, { algorithms: [ALGORITHM], requiredClaims: ['exp'] });
    subject = payload.sub;
  } catch (error) {
    const { code, claim } = error as { code?: unknown; claim?: unknown };
    if (code === 'ERR_JWT_EXPIRED') throw unauthenticated('token expired');
    if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim === 'exp')
      throw unauthenticated('token has no expiry (exp)');
    throw unauthenticated('invalid token');
  }
  if (subject === undefined || subject.trim() === '') throw unauthenticated('token has no subject (sub)');
  return subject;
}

/**
 * The acting user named in a request must be the caller: another user's id is PERMISSION_DENIED (a valid caller
 * acting for someone else), never silently replaced.
 */
export function requireCaller(context: AuthContext, userId: string): void {
  if (context.callerId !== userId) {
    throw new DomainError('permission_denied', 'user_id does not match the authenticated caller');
  }
}

/** A token for `userId` valid `ttlSeconds` from now: for clients, tools and tests. */
export async function signUserToken(secret: string, userId: string, ttlSeconds: number): Promise<string> {
  const now = Math.floor(Date.now() / 1_000);
  return new SignJWT({})
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(secretKey(secret));
}

function secretKey(secret: string): Uint8Array {
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new Error(`the JWT secret must be at least ${MIN_SECRET_LENGTH} characters`);
  }
  return new TextEncoder().encode(secret);
}

const unauthenticated = (message: string) => new DomainError('unauthenticated', message);
