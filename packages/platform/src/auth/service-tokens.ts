import { rememberAcceptedTokens } from './accepted-tokens.ts';
import { serviceCaller } from './caller.ts';
import { HS256, hmacVerifyKey, secretKey, signHs256Token, type TokenVerifier, verifyJwt } from './tokens.ts';

/**
 * How the services prove who they are to each other (booking accepts nobody else): short-lived HS256 tokens
 * signed with SERVICE_AUTH_SECRET, a key only the services hold and never the users' token secret. Each token
 * names its sender (`sub`) and the one service it is for (`aud`), so a token sent to booking is no good anywhere
 * else; the README's security model says why this and not mutual TLS.
 */
export const SERVICE_ISSUER = 'ticket.services';
const DEFAULT_TTL_SECONDS = 60;
/** A token whose `iat` is older than this is refused even when unexpired: no long-lived service tokens. */
const MAX_TOKEN_AGE_SECONDS = 5 * 60;

export interface ServiceTokenOptions {
  secret: string;
  /** The calling service, e.g. `checkout`. */
  service: string;
  /** The service called, e.g. `booking`. */
  audience: string;
  ttlSeconds?: number;
}

/**
 * The calling service's current token for `audience`, signed anew once less than half of its lifetime is left:
 * one signature a few times a minute, not one per call.
 */
export function createServiceTokenSource({
  secret,
  service,
  audience,
  ttlSeconds = DEFAULT_TTL_SECONDS,
}: ServiceTokenOptions): () => Promise<string> {
  secretKey(secret);
  let current: { token: Promise<string>; renewAt: number } | undefined;
  return () => {
    const now = Date.now();
    if (current === undefined || now >= current.renewAt) {
      const token = signHs256Token({ secret, subject: service, ttlSeconds, issuer: SERVICE_ISSUER, audience });
      const signing = { token, renewAt: now + (ttlSeconds * 1_000) / 2 };
      // A failed signature is not kept: the next call tries again.
      token.catch(() => {
        if (current === signing) current = undefined;
      });
      current = signing;
    }
    return current.token;
  };
}

/**
 * What a service (booking) checks of its callers: a service token meant for `audience`. A token once accepted is
 * taken again without a signature check until it expires or grows too old: the secret cannot change under a running
 * service, and each caller sends the same token for half a minute.
 */
export function createServiceTokenVerifier({ secret, audience }: { secret: string; audience: string }): TokenVerifier {
  const key = hmacVerifyKey(secret);
  return rememberAcceptedTokens(async (token) => {
    const payload = await verifyJwt(token, await key, {
      algorithms: [HS256],
      issuer: SERVICE_ISSUER,
      audience,
      maxTokenAge: MAX_TOKEN_AGE_SECONDS,
    });
    const expiresAt = Math.min(payload.exp, (payload.iat ?? 0) + MAX_TOKEN_AGE_SECONDS);
    return { caller: serviceCaller(payload.sub), reuseUntilMs: expiresAt * 1_000 };
  });
}
