import { randomBytes } from 'node:crypto';
import { EventServiceDefinition, type EventServiceImplementation } from '@ticket/contracts/v1/event/event_service';
import { type Channel, createChannel, createClient, Metadata } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { access } from '../src/auth/access.ts';
import { Role, requireActingUser } from '../src/auth/caller.ts';
import { createServiceTokenSource, createServiceTokenVerifier } from '../src/auth/service-tokens.ts';
import type { TokenVerifier } from '../src/auth/tokens.ts';
import { createUserTokenVerifier } from '../src/auth/user-tokens.ts';
import { type AccessPolicy, type AuthContext, accessPolicy, createAuthMiddleware } from '../src/grpc/auth.ts';
import { createServiceClient } from '../src/grpc/client.ts';
import { createGrpcServer, type GrpcServer } from '../src/grpc/server.ts';
import { callOutcome as statusOf } from '../src/testing/grpc.ts';
import { startTestIdentityProvider, type TestIdentityProvider } from '../src/testing/identity-provider.ts';
import { bearer, testCallers } from '../src/testing/tokens.ts';

const logger = pino({ level: 'silent' });
const secret = randomBytes(32).toString('base64url');
const serviceSecret = randomBytes(32).toString('base64url');

/**
 * Each handler answers with who called (the event's name): GetEvent is public, ListEvents for any user,
 * CreateEvent for organizers, CreateLocation for the checkout service, GetTicket insists its id is the caller.
 */
const implementation: EventServiceImplementation<AuthContext> = {
  createLocation: async (_request, { caller }) => ({ location: { name: `${caller.kind}:${caller.id}` } }),
  listLocations: async () => ({}),
  createEvent: async (_request, { caller }) => ({ event: { name: `${caller.kind}:${caller.id}` } }),
  listEvents: async (_request, { caller }) => ({ events: [{ name: `${caller.kind}:${caller.id}` }] }),
  getEvent: async (_request, { caller }) => ({ event: { name: `${caller.kind}:${caller.id}` } }),
  async getTicket({ ticketTypeId }, { caller }) {
    requireActingUser(caller, ticketTypeId);
    return { ticketType: { id: ticketTypeId } };
  },
};

const rules = {
  getEvent: access.public,
  listLocations: access.public,
  listEvents: access.anyUser,
  getTicket: access.anyUser,
  createEvent: access.roles(Role.organizer),
  createLocation: access.services('checkout'),
};

interface TestServer {
  server: GrpcServer<AuthContext>;
  port: number;
  channel: Channel;
}

async function startServer(verify: TokenVerifier, policy: AccessPolicy): Promise<TestServer> {
  const server = createGrpcServer<AuthContext>({ logger, middleware: createAuthMiddleware(verify, policy) });
  server.add(EventServiceDefinition, implementation);
  const port = await server.listen('127.0.0.1', 0);
  return { server, port, channel: createChannel(`127.0.0.1:${port}`) };
}

async function stopServer(test: TestServer | undefined) {
  test?.channel.close();
  await test?.server.shutdown();
}

describe('auth middleware with users’ tokens', () => {
  let test: TestServer;
  const users = testCallers(secret);
  const events = () => createClient(EventServiceDefinition, test.channel);
  const name = async (call: Promise<{ event?: { name: string } }>) => (await call).event?.name;

  beforeAll(async () => {
    test = await startServer(createUserTokenVerifier({ secret }), accessPolicy(EventServiceDefinition, rules));
  });
  afterAll(() => stopServer(test));

  it('lets anyone call a public method, and verifies a token that is sent anyway', async () => {
    expect(await name(events().getEvent({ eventId: 'x' }))).toBe('anonymous:');
    expect(await name(events().getEvent({ eventId: 'x' }, await users.as('u1')))).toBe('user:u1');
    expect(await statusOf(events().getEvent({ eventId: 'x' }, bearer('not.a.jwt')))).toBe(
      'UNAUTHENTICATED: invalid token',
    );
  });

  it('answers UNAUTHENTICATED without credentials or with a malformed header on a method for users', async () => {
    expect(await statusOf(events().listEvents({}))).toMatch(/^UNAUTHENTICATED: missing authorization/);
    const basic = { metadata: Metadata({ authorization: 'Basic dXNlcjpwYXNz' }) };
    expect(await statusOf(events().listEvents({}, basic))).toMatch(/^UNAUTHENTICATED: authorization metadata/);
    expect((await events().listEvents({}, await users.as('u1'))).events[0]?.name).toBe('user:u1');
  });

  it('admits a role’s holders and admins, and refuses other users with PERMISSION_DENIED', async () => {
    const create = async (roles: string[]) => statusOf(events().createEvent({}, await users.as('u1', roles)));
    expect(await create([Role.organizer])).toBe('OK');
    expect(await create([Role.admin])).toBe('OK');
    expect(await create([])).toBe('PERMISSION_DENIED: this method needs the role organizer');
    expect(await create([Role.scanner, 'organiser'])).toMatch(/^PERMISSION_DENIED/);
    expect(await statusOf(events().createEvent({}))).toMatch(/^UNAUTHENTICATED/);
  });

  it('refuses users, even admins, a method for services', async () => {
    expect(await statusOf(events().createLocation({}, await users.as('root', [Role.admin])))).toBe(
      'PERMISSION_DENIED: this method is for the checkout service only',
    );
  });

  it('lets a handler refuse a request made for another user, except from an admin', async () => {
    expect(await statusOf(events().getTicket({ ticketTypeId: 'u1' }, await users.as('u1')))).toBe('OK');
    expect(await statusOf(events().getTicket({ ticketTypeId: 'u2' }, await users.as('u1')))).toMatch(
      /^PERMISSION_DENIED: user_id/,
    );
    expect(await statusOf(events().getTicket({ ticketTypeId: 'u2' }, await users.as('box-office', ['admin'])))).toBe(
      'OK',
    );
  });

  it('leaves health open', async () => {
    expect(await createClient(HealthDefinition, test.channel).check({ service: '' })).toMatchObject({ status: 1 });
  });
});

describe('auth middleware with service tokens', () => {
  let test: TestServer;
  beforeAll(async () => {
    test = await startServer(
      createServiceTokenVerifier({ secret: serviceSecret, audience: 'event' }),
      accessPolicy(EventServiceDefinition, rules),
    );
  });
  afterAll(() => stopServer(test));

  const clientOf = (service: string, audience = 'event') =>
    createServiceClient(EventServiceDefinition, `127.0.0.1:${test.port}`, {
      credentials: createServiceTokenSource({ secret: serviceSecret, service, audience }),
    });

  it('sends the calling service’s token on every call, and admits only the services a method names', async () => {
    const checkout = clientOf('checkout');
    const booking = clientOf('booking');
    const misdirected = clientOf('checkout', 'booking');
    try {
      expect((await checkout.client.createLocation({})).location?.name).toBe('service:checkout');
      expect(await statusOf(booking.client.createLocation({}))).toBe(
        'PERMISSION_DENIED: this method is for the checkout service only',
      );
      expect(await statusOf(checkout.client.createEvent({}))).toBe(
        'PERMISSION_DENIED: this method is for users, not services',
      );
      expect(await statusOf(misdirected.client.createLocation({}))).toBe(
        'UNAUTHENTICATED: token not meant for this service (aud)',
      );
    } finally {
      for (const client of [checkout, booking, misdirected]) client.close();
    }
  });

  it('refuses a user’s token, and a call without one', async () => {
    const events = createClient(EventServiceDefinition, test.channel);
    expect(await statusOf(events.createLocation({}, await testCallers(secret).as('root', ['admin'])))).toMatch(
      /^UNAUTHENTICATED/,
    );
    expect(await statusOf(events.createLocation({}))).toMatch(/^UNAUTHENTICATED: missing authorization/);
  });
});

describe('auth middleware while the identity provider is down', () => {
  let idp: TestIdentityProvider;
  let test: TestServer;
  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    test = await startServer(
      createUserTokenVerifier({ jwksUrl: idp.jwksUrl, issuer: idp.issuer }),
      accessPolicy(EventServiceDefinition, rules),
    );
  });
  afterAll(async () => {
    await stopServer(test);
    await idp?.close();
  });

  it('answers UNAVAILABLE (retry) instead of UNAUTHENTICATED, and serves again once it is back', async () => {
    const key = await idp.addKey('ES256');
    const token = await idp.sign(key, { sub: 'u1', roles: ['organizer'] });
    const events = createClient(EventServiceDefinition, test.channel);
    await idp.stop();
    try {
      expect(await statusOf(events.createEvent({}, bearer(token)))).toMatch(/^UNAVAILABLE: cannot fetch/);
    } finally {
      await idp.start();
    }
    expect(await statusOf(events.createEvent({}, bearer(token)))).toBe('OK');
  });
});
