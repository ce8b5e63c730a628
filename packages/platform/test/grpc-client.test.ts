import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventServiceDefinition, type EventServiceImplementation } from '@ticket/contracts/v1/event/event_service';
import { Status } from 'nice-grpc';
import { BadRequest, RichClientError } from 'nice-grpc-error-details';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DomainError, invalidField, unavailable } from '../src/errors.ts';
import { createServiceClient, type ServiceClient, type ServiceClientOptions } from '../src/grpc/client.ts';
import { createGrpcServer, type GrpcServer } from '../src/grpc/server.ts';
import { callError } from '../src/testing/grpc.ts';

const logger = pino({ level: 'silent' });

/** How each method behaves on its n-th call (1-based); reset before every test. */
type Behaviour = (call: number, signal: AbortSignal) => Promise<void>;
const succeed: Behaviour = async () => {};
let behaviour: Record<'createLocation' | 'createEvent' | 'getEvent', Behaviour>;
let calls: Record<keyof typeof behaviour, number>;
const observed = { handlerSawAbort: false };

beforeEach(() => {
  behaviour = { createLocation: succeed, createEvent: succeed, getEvent: succeed };
  calls = { createLocation: 0, createEvent: 0, getEvent: 0 };
  observed.handlerSawAbort = false;
});

async function run(method: keyof typeof behaviour, signal: AbortSignal): Promise<void> {
  calls[method] += 1;
  await behaviour[method](calls[method], signal);
}

const implementation: EventServiceImplementation = {
  async createLocation(_request, { signal }) {
    await run('createLocation', signal);
    return { location: { id: 'l1' } };
  },
  async listLocations() {
    return {};
  },
  async createEvent(_request, { signal }) {
    await run('createEvent', signal);
    return { event: { id: 'e1' } };
  },
  async getEvent({ eventId }, { signal }) {
    await run('getEvent', signal);
    return { event: { id: eventId } };
  },
  async listEvents() {
    return {};
  },
  async getTicket() {
    return {};
  },
};

const failFirst = (times: number, error: () => Error): Behaviour => {
  return async (call) => {
    if (call <= times) throw error();
  };
};
const downOnce = failFirst(1, () => unavailable('booking is down'));
const slow =
  (ms: number): Behaviour =>
  async (_call, signal) => {
    try {
      await sleep(ms, undefined, { signal });
    } catch (error) {
      observed.handlerSawAbort = signal.aborted;
      throw error;
    }
  };

let server: GrpcServer;
let port: number;
const clients: Array<ServiceClient<typeof EventServiceDefinition>> = [];

/** Fast backoff so the tests do not wait for the production defaults. */
function connect(options: ServiceClientOptions = {}) {
  const connection = createServiceClient(EventServiceDefinition, `127.0.0.1:${port}`, {
    retryBaseDelayMs: 10,
    retryMaxDelayMs: 50,
    ...options,
  });
  clients.push(connection);
  return connection.client;
}

beforeAll(async () => {
  server = createGrpcServer({ logger });
  server.add(EventServiceDefinition, implementation);
  port = await server.listen('127.0.0.1', 0);
});

afterEach(() => {
  for (const connection of clients.splice(0)) connection.close();
});

afterAll(async () => {
  await server.shutdown();
});

describe('service client retries', () => {
  it('retries a NO_SIDE_EFFECTS method (GetEvent) that failed with UNAVAILABLE', async () => {
    behaviour.getEvent = downOnce;
    const events = connect();
    expect(await events.getEvent({ eventId: 'e7' })).toMatchObject({ event: { id: 'e7' } });
    expect(calls.getEvent).toBe(2);
  });

  it('retries an IDEMPOTENT method (CreateEvent) that failed with UNAVAILABLE', async () => {
    behaviour.createEvent = downOnce;
    expect(await connect().createEvent({ idempotencyKey: 'k1', name: 'x' })).toMatchObject({ event: { id: 'e1' } });
    expect(calls.createEvent).toBe(2);
  });

  it('does not retry a method without idempotency level (CreateLocation)', async () => {
    behaviour.createLocation = downOnce;
    const error = await callError(connect().createLocation({ name: 'Hall' }));
    expect(error.code).toBe(Status.UNAVAILABLE);
    expect(calls.createLocation).toBe(1);
  });

  it('does not retry statuses other than UNAVAILABLE', async () => {
    behaviour.getEvent = failFirst(1, () => new Error('bug'));
    expect((await callError(connect().getEvent({ eventId: 'e1' }))).code).toBe(Status.INTERNAL);
    behaviour.getEvent = failFirst(2, () => new DomainError('not_found', 'no such event'));
    expect((await callError(connect().getEvent({ eventId: 'e1' }))).code).toBe(Status.NOT_FOUND);
    expect(calls.getEvent).toBe(2);
  });

  it('gives up after the configured number of retries', async () => {
    behaviour.getEvent = failFirst(Number.POSITIVE_INFINITY, () => unavailable('down'));
    const error = await callError(connect({ retries: 2 }).getEvent({ eventId: 'e1' }));
    expect(error.code).toBe(Status.UNAVAILABLE);
    expect(calls.getEvent).toBe(3);
  });

  it('retries when the server cannot be reached at all, then reports UNAVAILABLE', async () => {
    const retried: Array<Record<string, unknown>> = [];
    const retryLogger = pino(
      { level: 'warn' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          retried.push(JSON.parse(chunk.toString()));
          done();
        },
      }),
    );
    const nowhere = createServiceClient(EventServiceDefinition, '127.0.0.1:1', {
      retries: 2,
      retryBaseDelayMs: 10,
      logger: retryLogger,
    });
    clients.push(nowhere);
    expect((await callError(nowhere.client.getEvent({ eventId: 'e1' }))).code).toBe(Status.UNAVAILABLE);
    expect(retried.map(({ msg, attempt, code }) => ({ msg, attempt, code }))).toEqual([
      { msg: 'gRPC call retried', attempt: 0, code: 'UNAVAILABLE' },
      { msg: 'gRPC call retried', attempt: 1, code: 'UNAVAILABLE' },
    ]);
  });
});

describe('service client deadlines', () => {
  it('cuts a slow call with DEADLINE_EXCEEDED, and the handler sees its signal abort', async () => {
    behaviour.getEvent = slow(5_000);
    const begun = performance.now();
    const error = await callError(connect({ deadlineMs: 200 }).getEvent({ eventId: 'e1' }));
    expect(error.code).toBe(Status.DEADLINE_EXCEEDED);
    // Cut near 200 ms, well short of the 5 s the handler takes.
    expect(performance.now() - begun).toBeLessThan(2_500);
    await expect.poll(() => observed.handlerSawAbort).toBe(true);
  });

  it('lets a call set its own deadline', async () => {
    behaviour.getEvent = slow(300);
    const events = connect({ deadlineMs: 100 });
    expect(await events.getEvent({ eventId: 'e1' }, { deadline: 2_000 })).toMatchObject({ event: { id: 'e1' } });
  });

  it('counts retries and their backoff against the same deadline', async () => {
    behaviour.getEvent = failFirst(Number.POSITIVE_INFINITY, () => unavailable('down'));
    const begun = performance.now();
    const events = connect({ deadlineMs: 300, retries: 100, retryBaseDelayMs: 1_000, retryMaxDelayMs: 10_000 });
    expect((await callError(events.getEvent({ eventId: 'e1' }))).code).toBe(Status.DEADLINE_EXCEEDED);
    expect(performance.now() - begun).toBeLessThan(1_000);
  });
});

describe('service client errors', () => {
  it('gives RichClientError with the BadRequest field violations', async () => {
    behaviour.createLocation = failFirst(1, () => invalidField('country_code', 'must be an ISO 3166-1 code'));
    const error = await callError(connect().createLocation({ name: 'Hall', countryCode: 'Germany' }));
    expect(error.code).toBe(Status.INVALID_ARGUMENT);
    expect(error).toBeInstanceOf(RichClientError);
    expect((error as RichClientError).extra).toEqual([
      BadRequest.fromPartial({
        fieldViolations: [{ field: 'country_code', description: 'must be an ISO 3166-1 code' }],
      }),
    ]);
  });
});
