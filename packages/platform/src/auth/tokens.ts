import { webcrypto } from 'node:crypto';
import { type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { DomainError } from '../errors.ts';
import { type Caller, unauthenticated } from './caller.ts';

/** Verifies a bearer token and says who sent it; throws a DomainError (UNAUTHENTICATED, UNAVAILABLE) otherwise. */
export type TokenVerifier = (token: string) => Promise<Caller>;

/** RFC 7518 asks for a key at least as long as the hash output: 32 bytes for HS256. */
export const MIN_SECRET_LENGTH = 32;

export const HS256 = 'HS256';

export function secretKey(secret: string): Uint8Array {
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new Error(`a JWT secret must be at least ${MIN_SECRET_LENGTH} characters`);
  }
  return new TextEncoder().encode(secret);
}

/**
 * The secret as a WebCrypto key for verifying HS256 signatures, imported once: given the raw bytes, jose imports them
 * anew for every token it verifies (a few % of checkout's CPU in a flash sale, where each buyer brings a new token).
 */
export function hmacVerifyKey(secret: string): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey('raw', secretKey(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
}

type VerifyKey = Parameters<typeof jwtVerify>[1];
type VerifyOptions = NonNullable<Parameters<typeof jwtVerify>[2]>;

/**
 * jwtVerify with its failures said as the caller should read them: what is wrong with the token
 * (UNAUTHENTICATED, never echoing it), or that the keys could not be had (UNAVAILABLE: the identity provider is
 * down, try again). A token must expire and name its subject.
 */
export async function verifyJwt(
  token: string,
  key: VerifyKey,
  options: VerifyOptions,
): Promise<JWTPayload & { sub: string; exp: number }> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, key as webcrypto.CryptoKey, { ...options, requiredClaims: ['exp'] }));
  } catch (error) {
    throw verificationFailure(error);
  }
  if (payload.sub === undefined || payload.sub.trim() === '') throw unauthenticated('token has no subject (sub)');
  return payload as JWTPayload & { sub: string; exp: number };
}

function verificationFailure(error: unknown): DomainError {
  if (error instanceof DomainError) return error;
  const { code, claim } = error as { code?: unknown; claim?: unknown };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return unauthenticated('token expired');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'exp') return unauthenticated('token has no expiry (exp)');
      if (claim === 'iss') return unauthenticated('token from an unexpected issuer (iss)');
      if (claim === 'aud') return unauthenticated('token not meant for this service (aud)');
      if (claim === 'iat') return unauthenticated('token too old (iat)');
      return unauthenticated('invalid token');
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return unauthenticated('token signed with an algorithm this service does not accept');
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return unauthenticated('token signed with an unknown key (kid)');
    case 'ERR_JWKS_TIMEOUT':
      return identityProviderUnavailable();
    default:
      // A failed fetch of the key set (refused, reset, not 200, not JSON) says nothing about the token.
      return isKeySetFetchFailure(error) ? identityProviderUnavailable() : unauthenticated('invalid token');
  }
}

function isKeySetFetchFailure(error: unknown): boolean {
  if (error instanceof TypeError && error.message === 'fetch failed') return true;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (
    (code === 'ERR_JOSE_GENERIC' || code === 'ERR_JWKS_INVALID') &&
    typeof message === 'string' &&
    /JSON Web Key Set/.test(message)
  );
}

const identityProviderUnavailable = () =>
  new DomainError('unavailable', 'cannot fetch the identity provider’s signing keys; retry later');

export interface SignTokenOptions {
  secret: string;
  subject: string;
  ttlSeconds: number;
  claims?: Record<string, unknown>;
  issuer?: string;
  audience?: string;
}

/** An HS256 token: the development identity of users, and the identity of services among themselves. */
export async function signHs256Token({
  secret,
  subject,
  ttlSeconds,
  claims = {},
  issuer,
  audience,
}: SignTokenOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1_000);
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: HS256, typ: 'JWT' })
    .setSubject(subject)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds);
  if (issuer !== undefined) jwt.setIssuer(issuer);
  if (audience !== undefined) jwt.setAudience(audience);
  return jwt.sign(secretKey(secret));
}
