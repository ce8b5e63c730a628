import { createRemoteJWKSet, decodeProtectedHeader, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ConfigError, type UserAuthConfig, userAuthProblems } from '../config.ts';
import { rememberAcceptedTokens } from './accepted-tokens.ts';
import { unauthenticated, userCaller } from './caller.ts';
import { SERVICE_ISSUER } from './service-tokens.ts';
import { HS256, hmacVerifyKey, signHs256Token, type TokenVerifier, verifyJwt } from './tokens.ts';

/** The asymmetric algorithms accepted from an identity provider's key set. */
const IDP_ALGORITHMS = ['RS256', 'ES256'];

export const DEFAULT_ROLES_CLAIM = 'roles';

export interface UserTokenOptions {
  /** HS256 secret of development tokens (`make up`, ticketctl); unset in production, where an IdP signs them. */
  secret?: string;
  /** The identity provider's JWKS: RS256 and ES256 tokens are verified against its keys. */
  jwksUrl?: string;
  /** When set, a token's `iss` must be this. */
  issuer?: string;
  /** When set, a token's `aud` must contain this. */
  audience?: string;
  /** Claim holding the roles, an array of strings; a dotted path reaches into objects (`realm_access.roles`). */
  rolesClaim?: string;
  /** Longest wait for the key set; past it the call fails UNAVAILABLE. Default 2 s. */
  jwksTimeoutMs?: number;
  /** An unknown `kid` refetches the key set at most this often. Default 30 s. */
  jwksCooldownMs?: number;
  /** Keys are refetched when older than this. Default 10 minutes. */
  jwksCacheMaxAgeMs?: number;
}

/** The verifier's options from a service's AUTH_* variables. */
export const userTokenOptions = (config: UserAuthConfig): UserTokenOptions => ({
  secret: config.AUTH_JWT_SECRET,
  jwksUrl: config.AUTH_JWKS_URL,
  issuer: config.AUTH_ISSUER,
  audience: config.AUTH_AUDIENCE,
  rolesClaim: config.AUTH_ROLES_CLAIM,
  jwksTimeoutMs: config.AUTH_JWKS_TIMEOUT_MS,
  jwksCooldownMs: config.AUTH_JWKS_COOLDOWN_MS,
  jwksCacheMaxAgeMs: config.AUTH_JWKS_CACHE_MAX_AGE_MS,
});

/**
 * Verifies users' bearer tokens: HS256 with the development secret, RS256/ES256 with the identity provider's keys
 * (fetched, cached, refetched when a token names a new `kid`), each checked for expiry, issuer and audience. The
 * caller's roles come from the roles claim.
 */
export function createUserTokenVerifier(options: UserTokenOptions): TokenVerifier {
  const { secret, jwksUrl, issuer, audience, rolesClaim = DEFAULT_ROLES_CLAIM } = options;
  const problems = userAuthProblems({ AUTH_JWT_SECRET: secret, AUTH_JWKS_URL: jwksUrl });
  if (problems.length > 0) throw new ConfigError(problems);
  const hmacKey = secret === undefined ? undefined : hmacVerifyKey(secret);
  const keySet =
    jwksUrl === undefined
      ? undefined
      : createRemoteJWKSet(new URL(jwksUrl), {
          timeoutDuration: options.jwksTimeoutMs ?? 2_000,
          cooldownDuration: options.jwksCooldownMs ?? 30_000,
          cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
        });
  const algorithms = [...(hmacKey ? [HS256] : []), ...(keySet ? IDP_ALGORITHMS : [])];
  const keyFor: JWTVerifyGetKey = (header, token) => {
    if (header.alg === HS256 && hmacKey) return hmacKey;
    if (keySet) return keySet(header, token);
    // Not reached: jwtVerify refuses an algorithm outside `algorithms` before asking for a key.
    throw unauthenticated('token signed with an algorithm this service does not accept');
  };
  return rememberAcceptedTokens(async (token) => {
    const payload = await verifyJwt(token, keyFor, { algorithms, issuer, audience });
    // Even if an operator gave both the same secret, a service's token never passes for a user.
    if (payload.iss === SERVICE_ISSUER) throw unauthenticated('token from an unexpected issuer (iss)');
    const caller = userCaller(payload.sub, rolesOf(payload, rolesClaim));
    // A development token's secret is fixed for the process's life; an identity provider's key may be withdrawn.
    return { caller, reuseUntilMs: signedWithSecret(token) ? payload.exp * 1_000 : undefined };
  });
}

/** Whether a token that passed verification was signed with the development secret (HS256 is only ever that). */
const signedWithSecret = (token: string): boolean => decodeProtectedHeader(token).alg === HS256;

/**
 * The strings of the roles claim. A claim name with dots is first taken whole (Auth0's namespaced
 * `https://example.com/roles`), then as a path (Keycloak's `realm_access.roles`). Anything else there means no
 * roles: the caller is still a buyer.
 */
export function rolesOf(payload: JWTPayload, claim: string): string[] {
  const value = claim in payload ? payload[claim] : valueAtPath(payload, claim.split('.'));
  return Array.isArray(value) ? value.filter((role): role is string => typeof role === 'string') : [];
}

function valueAtPath(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

export interface UserTokenClaims {
  roles?: readonly string[];
  /** Where the roles go: the verifier's AUTH_ROLES_CLAIM, a dotted path for a nested claim. */
  rolesClaim?: string;
  issuer?: string;
  audience?: string;
}

/** A development token for `userId` valid `ttlSeconds` from now: for ticketctl, `make demo` and tests. */
export async function signUserToken(
  secret: string,
  userId: string,
  ttlSeconds: number,
  { roles = [], rolesClaim = DEFAULT_ROLES_CLAIM, issuer, audience }: UserTokenClaims = {},
): Promise<string> {
  const claims = roles.length === 0 ? {} : claimAt(rolesClaim, [...roles]);
  return signHs256Token({ secret, subject: userId, ttlSeconds, claims, issuer, audience });
}

/** `{ a: { b: value } }` for the path `a.b`: where rolesOf looks for it. */
export function claimAt(path: string, value: unknown): Record<string, unknown> {
  return path
    .split('.')
    .reverse()
    .reduce<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
}
