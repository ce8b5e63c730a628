import { randomBytes } from 'node:crypto';
import { EventServiceDefinition, type EventServiceImplementation } from '@ticket/contracts/v1/event/event_service';
import { SignJWT } from 'jose';
import { type Channel, createChannel, createClient, Metadata } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthContext, createAuthMiddleware, requireCaller, signUserToken } from '../src/grpc/auth.ts';
import { createGrpcServer, type GrpcServer } from '../src/grpc/server.ts';
import { callOutcome as statusOf } from '../src/testing/grpc.ts';

const logger = pino({ level: 'silent' });
const secret = randomBytes(32).toString('base64url');

/** GetEvent answers with the caller the middleware authenticated; GetTicket insists the request's id is the caller. */
const implementation: EventServiceImplementation<AuthContext> = {
  createLocation: async () => ({}),
  listLocations: async () => ({}),
  createEvent: async () => ({}),
  listEvents: async () => ({}),
  async getEvent(_request, { callerId }) {
    return { event: { id: callerId } };
  },
  async getTicket({ ticketTypeId }, context) {
    requireCaller(context, ticketTypeId);
    return { ticketType: { id: ticketTypeId } };
  },
};

let server: GrpcServer<AuthContext>;
let channel: Channel;
const events = () => createClient(EventServiceDefinition, channel);
const bearer = (token: string) => ({ metadata: Metadata({ authorization: `Bearer ${token}` }) });

beforeAll(async () => {
  server = createGrpcServer({ logger, middleware: createAuthMiddleware({ secret }) });
  server.add(EventServiceDefinition, implementation);
  const port = await server.listen('127.0.0.1', 0);
  channel = createChannel(`127.0.0.1:${port}`);
});
afterAll(async () => {
  channel?.close();
  await server?.shutdown();
});

describe('auth middleware', () => {
  it('puts the subject of a valid token in the call context', async () => {
    const token = await signUserToken(secret, 'user-1', 60);
    expect((await events().getEvent({ eventId: 'x' }, bearer(token))).event?.id).toBe('user-1');
  });

  it('answers UNAUTHENTICATED without credentials or with a malformed header', async () => {
    expect(await statusOf(events().getEvent({ eventId: 'x' }))).toMatch(/^UNAUTHENTICATED: missing authorization/);
    const basic = { metadata: Metadata({ authorization: 'Basic dXNlcjpwYXNz' }) };
    expect(await statusOf(events().getEvent({ eventId: 'x' }, basic))).toMatch(/^UNAUTHENTICATED: authorization/);
    expect(await statusOf(events().getEvent({ eventId: 'x' }, bearer('not.a.jwt')))).toBe(
      'UNAUTHENTICATED: invalid token',
    );
  });

  it('rejects a token signed with another secret, an expired one, one without a subject or expiry, and alg "none"', async () => {
    const foreign = await signUserToken(randomBytes(32).toString('hex'), 'user-1', 60);
    expect(await statusOf(events().getEvent({ eventId: 'x' }, bearer(foreign)))).toBe('UNAUTHENTICATED: invalid token');

    const key = new TextEncoder().encode(secret);
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('user-1')
      .setIssuedAt(now - 120)
      .setExpirationTime(now - 60)
      .sign(key);
    expect(await statusOf(events().getEvent({ eventId: 'x' }, bearer(expired)))).toBe('UNAUTHENTICATED: token expired');

    const anonymous = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(now + 60)
      .sign(key);
    expect(await statusOf(events().getEvent({ eventId: 'x' }, bearer(anonymous)))).toMatch(/no subject/);

    const everlasting = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('user-1').sign(key);
    expect(await statusOf(events().getEvent({ eventId: 'x' }, bearer(everlasting)))).toBe(
      'UNAUTHENTICATED: token has no expiry (exp)',
    );

    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const claims = Buffer.from(JSON.stringify({ sub: 'user-1', exp: now + 60 })).toString('base64url');
    expect(await statusOf(events().getEvent({ eventId: 'x' }, bearer(`${header}.${claims}.`)))).toBe(
      'UNAUTHENTICATED: invalid token',
    );
  });

  it('lets a handler refuse a request made for another user with PERMISSION_DENIED', async () => {
    const token = await signUserToken(secret, 'user-1', 60);
    expect(await statusOf(events().getTicket({ ticketTypeId: 'user-1' }, bearer(token)))).toBe('OK');
    expect(await statusOf(events().getTicket({ ticketTypeId: 'user-2' }, bearer(token)))).toMatch(
      /^PERMISSION_DENIED: user_id/,
    );
  });

  it('leaves health open', async () => {
    expect(await createClient(HealthDefinition, channel).check({ service: '' })).toMatchObject({ status: 1 });
  });

  it('refuses a secret shorter than 32 characters', () => {
    expect(() => createAuthMiddleware({ secret: 'short' })).toThrow(/at least 32/);
  });
});
