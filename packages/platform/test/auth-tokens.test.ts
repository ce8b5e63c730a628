import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Acceptance, rememberAcceptedTokens } from '../src/auth/accepted-tokens.ts';
import { userCaller } from '../src/auth/caller.ts';
import { createServiceTokenSource, createServiceTokenVerifier } from '../src/auth/service-tokens.ts';
import { createUserTokenVerifier, rolesOf, signUserToken, type UserTokenOptions } from '../src/auth/user-tokens.ts';
import { ConfigError } from '../src/config.ts';
import { DomainError } from '../src/errors.ts';
import { startTestIdentityProvider, type TestIdentityProvider } from '../src/testing/identity-provider.ts';

const secret = randomBytes(32).toString('hex');

/** `kind: message` of the DomainError a verification throws, or the caller it returns. */
async function outcome(verification: Promise<{ kind: string; id: string; roles: ReadonlySet<string> }>) {
  try {
    const caller = await verification;
    return `${caller.kind} ${caller.id} [${[...caller.roles].join(',')}]`;
  } catch (error) {
    if (error instanceof DomainError) return `${error.kind}: ${error.message}`;
    throw error;
  }
}

let idp: TestIdentityProvider;
beforeAll(async () => {
  idp = await startTestIdentityProvider();
});
afterAll(async () => {
  await idp?.close();
});

const idpVerifier = (options: Partial<UserTokenOptions> = {}) =>
  createUserTokenVerifier({ jwksUrl: idp.jwksUrl, issuer: idp.issuer, audience: 'ticket', ...options });

describe('user tokens from an identity provider (JWKS over HTTP)', () => {
  it('accepts RS256 and ES256 tokens and reads the roles from a nested claim', async () => {
    const verify = idpVerifier({ rolesClaim: 'realm_access.roles' });
    const rsa = await idp.addKey('RS256');
    const ec = await idp.addKey('ES256');
    const claims = { sub: 'alice', aud: 'ticket', roles: ['organizer'], rolesClaim: 'realm_access.roles' };
    expect(await outcome(verify(await idp.sign(rsa, claims)))).toBe('user alice [organizer]');
    expect(await outcome(verify(await idp.sign(ec, { ...claims, sub: 'bob', roles: ['admin', 7] as never })))).toBe(
      'user bob [admin]',
    );
    expect(await outcome(verify(await idp.sign(ec, { sub: 'carol', aud: 'ticket' })))).toBe('user carol []');
  });

  it('refuses a token from another issuer, for another audience, or signed by a key the set never had', async () => {
    const verify = idpVerifier({ jwksCooldownMs: 0 });
    const key = await idp.addKey('RS256');
    expect(await outcome(verify(await idp.sign(key, { sub: 'a', aud: 'ticket', iss: 'https://evil.example' })))).toBe(
      'unauthenticated: token from an unexpected issuer (iss)',
    );
    expect(await outcome(verify(await idp.sign(key, { sub: 'a', aud: 'ticket', iss: null })))).toMatch(/issuer/);
    expect(await outcome(verify(await idp.sign(key, { sub: 'a', aud: 'another-api' })))).toBe(
      'unauthenticated: token not meant for this service (aud)',
    );
    const stranger = await idp.addKey('ES256', { publish: false });
    expect(await outcome(verify(await idp.sign(stranger, { sub: 'a', aud: 'ticket' })))).toBe(
      'unauthenticated: token signed with an unknown key (kid)',
    );
  });

  it('follows a key rotation: a new kid is fetched once, a withdrawn key stops working after the refresh', async () => {
    const verify = idpVerifier({ jwksCooldownMs: 0 });
    const old = await idp.addKey('RS256');
    const oldToken = await idp.sign(old, { sub: 'a', aud: 'ticket' });
    expect(await outcome(verify(oldToken))).toBe('user a []');
    const fetchesBefore = idp.fetches;
    expect(await outcome(verify(oldToken))).toBe('user a []');
    expect(idp.fetches).toBe(fetchesBefore); // cached

    const next = await idp.addKey('ES256');
    idp.withdraw(old);
    expect(await outcome(verify(await idp.sign(next, { sub: 'b', aud: 'ticket' })))).toBe('user b []');
    expect(idp.fetches).toBe(fetchesBefore + 1);
    expect(await outcome(verify(oldToken))).toBe('unauthenticated: token signed with an unknown key (kid)');
  });

  it('does not refetch for every unknown kid while cooling down', async () => {
    const verify = idpVerifier({ jwksCooldownMs: 60_000 });
    const key = await idp.addKey('RS256');
    await verify(await idp.sign(key, { sub: 'a', aud: 'ticket' }));
    const fetchesBefore = idp.fetches;
    const stranger = await idp.addKey('RS256', { publish: false });
    for (let i = 0; i < 5; i += 1) {
      expect(await outcome(verify(await idp.sign(stranger, { sub: 'a', aud: 'ticket' })))).toMatch(/unknown key/);
    }
    expect(idp.fetches).toBe(fetchesBefore);
  });

  it('answers UNAVAILABLE at once while the JWKS endpoint is down, and recovers when it is back', async () => {
    const verify = idpVerifier({ jwksTimeoutMs: 10_000 });
    const key = await idp.addKey('RS256');
    const token = await idp.sign(key, { sub: 'a', aud: 'ticket' });
    await idp.stop();
    try {
      const started = performance.now();
      expect(await outcome(verify(token))).toMatch(/^unavailable: cannot fetch the identity provider/);
      // Refused connections fail fast: well under the 10 s fetch timeout this verifier would otherwise wait.
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      await idp.start();
    }
    expect(await outcome(verify(token))).toBe('user a []');
  });

  it('answers UNAVAILABLE after the fetch timeout when the JWKS endpoint hangs, and recovers', async () => {
    const verify = idpVerifier({ jwksTimeoutMs: 300 });
    const key = await idp.addKey('ES256');
    const token = await idp.sign(key, { sub: 'a', aud: 'ticket' });
    idp.hang(true);
    try {
      const started = performance.now();
      expect(await outcome(verify(token))).toMatch(/^unavailable:/);
      // Bounded by the 300 ms timeout, not by the hanging server (which never answers).
      expect(performance.now() - started).toBeLessThan(10_000);
    } finally {
      idp.hang(false);
    }
    expect(await outcome(verify(token))).toBe('user a []');
  });
});

describe('development tokens (HS256) beside the identity provider', () => {
  it('accepts both kinds when both are configured, checking issuer and audience on each', async () => {
    const verify = idpVerifier({ secret });
    const key = await idp.addKey('RS256');
    expect(await outcome(verify(await idp.sign(key, { sub: 'idp-user', aud: 'ticket' })))).toBe('user idp-user []');
    const dev = { issuer: idp.issuer, audience: 'ticket', roles: ['scanner'] };
    expect(await outcome(verify(await signUserToken(secret, 'dev-user', 60, dev)))).toBe('user dev-user [scanner]');
    expect(await outcome(verify(await signUserToken(secret, 'dev-user', 60)))).toMatch(/issuer/);
  });

  it('refuses HS256 when only the JWKS is configured, and RS256 when only the secret is', async () => {
    const key = await idp.addKey('RS256');
    expect(
      await outcome(idpVerifier()(await signUserToken(secret, 'u', 60, { issuer: idp.issuer, audience: 'ticket' }))),
    ).toBe('unauthenticated: token signed with an algorithm this service does not accept');
    expect(await outcome(createUserTokenVerifier({ secret })(await idp.sign(key, { sub: 'u' })))).toBe(
      'unauthenticated: token signed with an algorithm this service does not accept',
    );
  });

  it('refuses a token signed with another secret, expired, without subject or expiry, and alg "none"', async () => {
    const verify = createUserTokenVerifier({ secret });
    const key = new TextEncoder().encode(secret);
    const now = Math.floor(Date.now() / 1000);
    const jwt = () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' });
    expect(await outcome(verify(await signUserToken(randomBytes(32).toString('hex'), 'u', 60)))).toBe(
      'unauthenticated: invalid token',
    );
    const expired = await jwt()
      .setSubject('u')
      .setExpirationTime(now - 60)
      .sign(key);
    expect(await outcome(verify(expired))).toBe('unauthenticated: token expired');
    const anonymous = await jwt()
      .setExpirationTime(now + 60)
      .sign(key);
    expect(await outcome(verify(anonymous))).toBe('unauthenticated: token has no subject (sub)');
    const everlasting = await jwt().setSubject('u').sign(key);
    expect(await outcome(verify(everlasting))).toBe('unauthenticated: token has no expiry (exp)');
    const none = [{ alg: 'none' }, { sub: 'u', exp: now + 60 }].map((part) =>
      Buffer.from(JSON.stringify(part)).toString('base64url'),
    );
    expect(await outcome(verify(`${none.join('.')}.`))).toMatch(/^unauthenticated: /);
    expect(await outcome(verify('not.a.jwt'))).toBe('unauthenticated: invalid token');
  });

  it('needs a secret or a JWKS, and a secret of at least 32 characters', () => {
    expect(() => createUserTokenVerifier({})).toThrow(ConfigError);
    expect(() => createUserTokenVerifier({ secret: 'short' })).toThrow(/at least 32/);
  });
});

describe('the roles claim', () => {
  it('is read whole first (namespaced claims have dots), then as a path', () => {
    expect(rolesOf({ 'https://ticket.example/roles': ['admin'] }, 'https://ticket.example/roles')).toEqual(['admin']);
    expect(rolesOf({ realm_access: { roles: ['organizer'] } }, 'realm_access.roles')).toEqual(['organizer']);
    expect(rolesOf({ roles: 'admin' }, 'roles')).toEqual([]);
    expect(rolesOf({ realm_access: null }, 'realm_access.roles')).toEqual([]);
    expect(rolesOf({}, 'constructor.name')).toEqual([]);
  });
});

describe('service tokens', () => {
  const serviceSecret = randomBytes(32).toString('hex');

  it('name the calling service to the service they are meant for, and are reused until half their life is gone', async () => {
    const source = createServiceTokenSource({ secret: serviceSecret, service: 'checkout', audience: 'booking' });
    const verify = createServiceTokenVerifier({ secret: serviceSecret, audience: 'booking' });
    const token = await source();
    expect(await outcome(verify(token))).toBe('service checkout []');
    expect(await source()).toBe(token);
  });

  it('are refused by another audience, with another secret, expired, or when a user token is sent instead', async () => {
    const verify = createServiceTokenVerifier({ secret: serviceSecret, audience: 'booking' });
    const forEvent = createServiceTokenSource({ secret: serviceSecret, service: 'checkout', audience: 'event' });
    expect(await outcome(verify(await forEvent()))).toBe('unauthenticated: token not meant for this service (aud)');
    const forged = createServiceTokenSource({ secret, service: 'checkout', audience: 'booking' });
    expect(await outcome(verify(await forged()))).toBe('unauthenticated: invalid token');
    const expired = createServiceTokenSource({
      secret: serviceSecret,
      service: 'event',
      audience: 'booking',
      ttlSeconds: -10,
    });
    expect(await outcome(verify(await expired()))).toBe('unauthenticated: token expired');
    const userToken = await signUserToken(serviceSecret, 'admin-user', 60, { roles: ['admin'] });
    expect(await outcome(verify(userToken))).toMatch(/^unauthenticated: token from an unexpected issuer/);
  });

  it('never pass for a user, even where the users’ secret is the same key', async () => {
    const source = createServiceTokenSource({ secret: serviceSecret, service: 'event', audience: 'booking' });
    const users = createUserTokenVerifier({ secret: serviceSecret });
    expect(await outcome(users(await source()))).toBe('unauthenticated: token from an unexpected issuer (iss)');
  });
});

describe('accepted tokens', () => {
  /** A verifier that accepts tokens named `ok…` until `untilMs`, and counts the signature checks it was asked for. */
  function countingVerifier(untilMs: number | undefined) {
    const checks: string[] = [];
    const verify = async (token: string): Promise<Acceptance> => {
      checks.push(token);
      await sleep(1);
      if (!token.startsWith('ok')) throw new DomainError('unauthenticated', 'invalid token');
      return { caller: userCaller(token), reuseUntilMs: untilMs };
    };
    return { verify, checks };
  }

  it('are taken again without a check until their time is up, then checked again', async () => {
    let clock = 1_000;
    const { verify, checks } = countingVerifier(2_000);
    const remembered = rememberAcceptedTokens(verify, { now: () => clock });
    expect(await outcome(remembered('ok-a'))).toBe('user ok-a []');
    expect(await outcome(remembered('ok-a'))).toBe('user ok-a []');
    expect(checks).toEqual(['ok-a']);
    clock = 2_000;
    expect(await outcome(remembered('ok-a'))).toBe('user ok-a []');
    expect(checks).toEqual(['ok-a', 'ok-a']);
  });

  it('are checked once for calls that arrive together; refused tokens are checked every time', async () => {
    const { verify, checks } = countingVerifier(Date.now() + 60_000);
    const remembered = rememberAcceptedTokens(verify);
    const callers = await Promise.all(Array.from({ length: 5 }, () => outcome(remembered('ok-b'))));
    expect(new Set(callers)).toEqual(new Set(['user ok-b []']));
    expect(await outcome(remembered('forged'))).toBe('unauthenticated: invalid token');
    expect(await outcome(remembered('forged'))).toBe('unauthenticated: invalid token');
    expect(checks).toEqual(['ok-b', 'forged', 'forged']);
  });

  it('are not remembered when the verifier says not to, and at most maxTokens are', async () => {
    const once = countingVerifier(undefined);
    const neverReused = rememberAcceptedTokens(once.verify);
    await remembered(neverReused, 'ok-c', 'ok-c');
    expect(once.checks).toEqual(['ok-c', 'ok-c']);

    const bounded = countingVerifier(Date.now() + 60_000);
    const two = rememberAcceptedTokens(bounded.verify, { maxTokens: 2 });
    await remembered(two, 'ok-1', 'ok-2', 'ok-3', 'ok-3', 'ok-2', 'ok-1');
    expect(bounded.checks).toEqual(['ok-1', 'ok-2', 'ok-3', 'ok-1']);
  });

  async function remembered(verify: (token: string) => Promise<unknown>, ...tokens: string[]): Promise<void> {
    for (const token of tokens) await verify(token);
  }

  it('still expire: a service token accepted once is refused once its exp has passed', async () => {
    const serviceSecret = randomBytes(32).toString('hex');
    const source = createServiceTokenSource({
      secret: serviceSecret,
      service: 'event',
      audience: 'booking',
      ttlSeconds: 1,
    });
    const verify = createServiceTokenVerifier({ secret: serviceSecret, audience: 'booking' });
    const token = await source();
    expect(await outcome(verify(token))).toBe('service event []');
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp: number };
    await sleep(exp * 1_000 - Date.now() + 5);
    expect(await outcome(verify(token))).toBe('unauthenticated: token expired');
  });

  it('signed with the development secret are remembered, and a remembered token still needs the right audience', async () => {
    const verify = createUserTokenVerifier({ secret, audience: 'ticket' });
    const token = await signUserToken(secret, 'dave', 60, { audience: 'ticket' });
    expect(await outcome(verify(token))).toBe('user dave []');
    expect(await outcome(verify(token))).toBe('user dave []');
    const elsewhere = createUserTokenVerifier({ secret, audience: 'another-api' });
    expect(await outcome(elsewhere(token))).toBe('unauthenticated: token not meant for this service (aud)');
  });
});
