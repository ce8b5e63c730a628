import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { claimAt } from '../auth/user-tokens.ts';

export type IdpAlgorithm = 'RS256' | 'ES256';

export interface IdpKey {
  kid: string;
  alg: IdpAlgorithm;
  privateKey: CryptoKey;
  jwk: JWK;
}

export interface IdpTokenClaims {
  sub: string;
  /** Put at `rolesClaim` (a dotted path nests it). */
  roles?: readonly string[];
  rolesClaim?: string;
  /** Default: the provider's issuer; `null` leaves it out. */
  iss?: string | null;
  aud?: string;
  ttlSeconds?: number;
}

/**
 * A local stand-in for an OpenID identity provider: its JWKS over real HTTP, keys it generates, rotates and
 * withdraws, and the tokens it signs with them. It can also stop answering (the port closed) or hang, and counts
 * the key-set fetches it served.
 */
export interface TestIdentityProvider {
  jwksUrl: string;
  issuer: string;
  /** Key-set requests answered so far. */
  readonly fetches: number;
  /** A new signing key; published in the key set unless `publish` is false. */
  addKey(alg: IdpAlgorithm, options?: { publish?: boolean }): Promise<IdpKey>;
  /** Takes a key out of the key set (tokens it signed stay signed). */
  withdraw(key: IdpKey): void;
  sign(key: IdpKey, claims: IdpTokenClaims): Promise<string>;
  /** Requests are accepted but never answered until `hang(false)`. */
  hang(hanging: boolean): void;
  /** Closes the port: fetches are refused. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestIdentityProvider(): Promise<TestIdentityProvider> {
  const published = new Map<string, JWK>();
  const stalled = new Set<() => void>();
  let hanging = false;
  let fetches = 0;
  const server: Server = createServer((request, response) => {
    if (request.url !== '/jwks') {
      response.writeHead(404).end();
      return;
    }
    fetches += 1;
    const answer = () =>
      response
        .writeHead(200, { 'content-type': 'application/jwk-set+json' })
        .end(JSON.stringify({ keys: [...published.values()] }));
    if (!hanging) return answer();
    stalled.add(() => response.destroy());
  });
  const port = await listen(server, 0);
  async function stop() {
    for (const drop of stalled) drop();
    stalled.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  const base = `http://127.0.0.1:${port}`;
  const issuer = `${base}/realms/test`;

  return {
    jwksUrl: `${base}/jwks`,
    issuer,
    get fetches() {
      return fetches;
    },
    async addKey(alg, { publish = true } = {}) {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      const kid = randomUUID();
      const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
      if (publish) published.set(kid, jwk);
      return { kid, alg, privateKey, jwk };
    },
    withdraw(key) {
      published.delete(key.kid);
    },
    async sign(key, { sub, roles, rolesClaim = 'roles', iss = issuer, aud, ttlSeconds = 300 }) {
      const now = Math.floor(Date.now() / 1_000);
      const jwt = new SignJWT(roles === undefined ? {} : claimAt(rolesClaim, [...roles]))
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
        .setSubject(sub)
        .setIssuedAt(now)
        .setExpirationTime(now + ttlSeconds);
      if (iss !== null) jwt.setIssuer(iss);
      if (aud !== undefined) jwt.setAudience(aud);
      return jwt.sign(key.privateKey);
    },
    hang(value) {
      hanging = value;
      if (!value) {
        for (const drop of stalled) drop();
        stalled.clear();
      }
    },
    stop,
    async start() {
      await listen(server, port);
    },
    async close() {
      if (server.listening) await stop();
    },
  };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
