import { Writable } from 'node:stream';
import {
  type CreateEventRequest,
  EventServiceDefinition,
  type EventServiceImplementation,
} from '@ticket/contracts/v1/event/event_service';
import { sql } from 'drizzle-orm';
import { createChannel, createClientFactory, ServerError, Status } from 'nice-grpc';
import { BadRequest, errorDetailsClientMiddleware, RichClientError } from 'nice-grpc-error-details';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { closeDatabase, createDatabase } from '../src/db/client.ts';
import { DomainError, type ErrorKind, notFound } from '../src/errors.ts';
import { idempotencyKey, money, nonEmptyString, positiveInt32 } from '../src/grpc/fields.ts';
import { createGrpcServer, type GrpcServer } from '../src/grpc/server.ts';
import { parseRequest } from '../src/grpc/validation.ts';
import { testServerUrl } from '../src/testing/database.ts';
import { callError } from '../src/testing/grpc.ts';

/** Every log line the server writes, parsed, so a test can see what was logged and what was not sent. */
const logLines: Array<Record<string, unknown>> = [];
const logger = pino(
  { level: 'debug' },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(JSON.parse(chunk.toString()));
      done();
    },
  }),
);

const createEventRequest = z.object({
  idempotencyKey: idempotencyKey(),
  name: nonEmptyString(200),
  ticketTypes: z
    .array(z.object({ name: nonEmptyString(100), price: money(), seats: positiveInt32() }))
    .min(1, { error: 'must have at least one ticket type' }),
});

/** What GetEvent throws, chosen by the request's event_id. */
const failures: Record<string, () => Promise<never>> = {
  secret: async () => {
    throw new Error('secret: password=hunter2');
  },
  'server-error': async () => {
    throw new ServerError(Status.ABORTED, 'already a status');
  },
  'not-an-error': async () => {
    throw 'a string';
  },
  // Real driver errors, through drizzle (which wraps them in DrizzleQueryError with the driver error as cause).
  'postgres-refused': async () => {
    const db = createDatabase({ url: 'postgres://postgres@127.0.0.1:1/none', applicationName: 'grpc-errors-test' });
    try {
      await db.execute(sql`select 1`);
    } finally {
      await closeDatabase(db);
    }
    throw new Error('unreachable');
  },
  'postgres-serialization': async () => {
    const db = createDatabase({ url: testServerUrl(), poolSize: 1, applicationName: 'grpc-errors-test' });
    try {
      await db.execute(sql.raw(`do $$ begin raise exception 'could not serialize' using errcode = '40001'; end $$`));
    } finally {
      await closeDatabase(db);
    }
    throw new Error('unreachable');
  },
  'postgres-terminated': async () => {
    const db = createDatabase({ url: testServerUrl(), poolSize: 1, applicationName: 'grpc-errors-test' });
    try {
      await db.execute(sql`select pg_terminate_backend(pg_backend_pid())`);
    } finally {
      await closeDatabase(db, 0);
    }
    throw new Error('unreachable');
  },
};

const kinds: Array<[ErrorKind, keyof typeof Status]> = [
  ['invalid_argument', 'INVALID_ARGUMENT'],
  ['not_found', 'NOT_FOUND'],
  ['already_exists', 'ALREADY_EXISTS'],
  ['failed_precondition', 'FAILED_PRECONDITION'],
  ['resource_exhausted', 'RESOURCE_EXHAUSTED'],
  ['permission_denied', 'PERMISSION_DENIED'],
  ['unauthenticated', 'UNAUTHENTICATED'],
  ['unavailable', 'UNAVAILABLE'],
];

const implementation: EventServiceImplementation = {
  async createLocation() {
    throw notFound('location');
  },
  async listLocations() {
    return {};
  },
  async createEvent(request: CreateEventRequest) {
    const valid = parseRequest(createEventRequest, request);
    return { event: { name: valid.name } };
  },
  async getEvent({ eventId }) {
    const kind = kinds.find(([candidate]) => candidate === eventId)?.[0];
    if (kind !== undefined) throw new DomainError(kind, `the ${kind} message`);
    const failure = failures[eventId];
    if (failure !== undefined) return failure();
    return { event: { id: eventId } };
  },
  async listEvents() {
    return {};
  },
  async getTicket() {
    return {};
  },
};

let server: GrpcServer;
let client: ReturnType<typeof connect>['client'];
let close: () => void;

function connect(port: number) {
  const channel = createChannel(`127.0.0.1:${port}`);
  return {
    client: createClientFactory().use(errorDetailsClientMiddleware).create(EventServiceDefinition, channel),
    close: () => channel.close(),
  };
}

beforeAll(async () => {
  server = createGrpcServer({ logger });
  server.add(EventServiceDefinition, implementation);
  const port = await server.listen('127.0.0.1', 0);
  ({ client, close } = connect(port));
});

afterAll(async () => {
  close();
  await server.shutdown();
});

describe('error middleware', () => {
  it.each(kinds)('maps DomainError %s to %s with its message', async (kind, status) => {
    const error = await callError(client.getEvent({ eventId: kind }));
    expect(Status[error.code]).toBe(status);
    expect(error.details).toBe(`the ${kind} message`);
  });

  it('names every bad field in the message and in a google.rpc.BadRequest detail', async () => {
    const error = await callError(
      client.createEvent({
        idempotencyKey: '',
        name: '  ',
        ticketTypes: [
          { name: 'Standing', price: { amountMinor: 1500, currency: 'usd' }, seats: 100 },
          { name: 'Seated', price: undefined, seats: 0 },
        ],
      }),
    );
    const fields = [
      'idempotency_key',
      'name',
      'ticket_types[0].price.currency',
      'ticket_types[1].price',
      'ticket_types[1].seats',
    ];
    expect(error.code).toBe(Status.INVALID_ARGUMENT);
    for (const field of fields) expect(error.details).toContain(`${field}: `);
    expect(error).toBeInstanceOf(RichClientError);
    const details = (error as RichClientError).extra;
    const badRequest = details.find((detail) => detail.$type === BadRequest.$type);
    expect(badRequest?.$type).toBe(BadRequest.$type);
    const violations = badRequest?.$type === BadRequest.$type ? badRequest.fieldViolations : [];
    expect(violations.map((violation) => violation.field).sort()).toEqual([...fields].sort());
    expect(violations.find((violation) => violation.field === 'ticket_types[1].price')?.description).toBe(
      'is required',
    );
  });

  it('answers a valid request normally', async () => {
    const response = await client.createEvent({
      idempotencyKey: 'key-1',
      name: ' Concert ',
      ticketTypes: [{ name: 'Standing', price: { amountMinor: 1500, currency: 'EUR' }, seats: 100 }],
    });
    expect(response.event?.name).toBe('Concert');
  });

  it('turns any other error into INTERNAL without its message, and logs it with the method', async () => {
    const error = await callError(client.getEvent({ eventId: 'secret' }));
    expect(error.code).toBe(Status.INTERNAL);
    expect(error.details).toBe('internal error');
    expect(error.message).not.toContain('secret');
    const logged = logLines.find((line) => line.msg === 'unexpected error in gRPC handler');
    expect(logged).toMatchObject({
      level: 50,
      method: '/ticket.event.v1.EventService/GetEvent',
      err: { message: 'secret: password=hunter2' },
    });
  });

  it('turns a thrown non-Error into INTERNAL, never UNKNOWN', async () => {
    const error = await callError(client.getEvent({ eventId: 'not-an-error' }));
    expect(error.code).toBe(Status.INTERNAL);
  });

  it('passes a ServerError through unchanged', async () => {
    const error = await callError(client.getEvent({ eventId: 'server-error' }));
    expect(error.code).toBe(Status.ABORTED);
    expect(error.details).toBe('already a status');
  });

  it.each([
    ['Postgres refuses the connection', 'postgres-refused'],
    ['Postgres reports a serialization failure (40001)', 'postgres-serialization'],
    ['Postgres terminates the connection', 'postgres-terminated'],
  ])('answers UNAVAILABLE with a generic message when %s', async (_case, eventId) => {
    const error = await callError(client.getEvent({ eventId }));
    expect(Status[error.code]).toBe('UNAVAILABLE');
    expect(error.details).toBe('service temporarily unavailable, retry later');
    expect(error.details).not.toMatch(/127\.0\.0\.1|40001|serialize|select/);
  });

  it('logs each call at debug level with its final status and duration', async () => {
    await client.getEvent({ eventId: 'e1' });
    await callError(client.getEvent({ eventId: 'not_found' }));
    const calls = logLines.filter((line) => line.msg === 'gRPC call');
    expect(calls).toContainEqual(
      expect.objectContaining({ level: 20, method: '/ticket.event.v1.EventService/GetEvent', status: 'OK' }),
    );
    expect(calls).toContainEqual(expect.objectContaining({ status: 'NOT_FOUND', durationMs: expect.any(Number) }));
  });
});
