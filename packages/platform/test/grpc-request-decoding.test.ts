import { create, createFileRegistry, type DescMessage, fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import { readDescriptorSet } from '@ticket/contracts/descriptor-set';
import { EventServiceDefinition, type EventServiceImplementation } from '@ticket/contracts/v1/event/event_service';
import { createChannel, createClient } from 'nice-grpc';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createGrpcServer, type GrpcServer } from '../src/grpc/server.ts';

const logger = pino({ level: 'silent' });
const CREATE_LOCATION = '/ticket.event.v1.EventService/CreateLocation';
const CREATE_EVENT = '/ticket.event.v1.EventService/CreateEvent';

/** Bytes that are not a protobuf message, each for a different reason the decoder gives up. */
const malformed: Record<string, Buffer> = {
  'an endless varint (0xff × 16)': Buffer.alloc(16, 0xff),
  'a length-delimited field longer than the message': Buffer.from([0x0a, 0x10, 0x61, 0x62]),
  'wire type 7': Buffer.from([0x0f, 0x01]),
  'random bytes': Buffer.from('3a9c1e77b2d4f0', 'hex'),
};

/** Message schemas from the served descriptor set, to build requests whose int64 a JS number cannot hold. */
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readDescriptorSet()));
const messageSchema = (name: string): DescMessage => {
  const schema = registry.getMessage(name);
  if (schema === undefined) throw new Error(`no message ${name} in the descriptor set`);
  return schema;
};

function createEventBytes(amountMinor: bigint, endsAtSeconds = 1_900_000_000n): Buffer {
  const request = create(messageSchema('ticket.event.v1.CreateEventRequest'), {
    idempotencyKey: 'k1',
    name: 'Concert',
    startsAt: { seconds: 1_800_000_000n },
    endsAt: { seconds: endsAtSeconds },
    ticketTypes: [{ name: 'Standard', seats: 10, price: { amountMinor, currency: 'EUR' } }],
  });
  return Buffer.from(toBinary(messageSchema('ticket.event.v1.CreateEventRequest'), request));
}

interface RawOutcome {
  code: grpc.status;
  details: string;
}

/** Sends bytes as they are (identity serializers), so the server's deserializer sees exactly them. */
function sendRaw(client: grpc.Client, path: string, body: Buffer): Promise<RawOutcome> {
  const identity = (bytes: Buffer): Buffer => bytes;
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, identity, identity, body, { deadline: Date.now() + 5_000 }, (error) => {
      resolve(error === null ? { code: grpc.status.OK, details: '' } : { code: error.code, details: error.details });
    });
  });
}

const running: Array<{ server: GrpcServer; close: () => void }> = [];

afterEach(async () => {
  for (const { server, close } of running.splice(0)) {
    close();
    await server.shutdown();
  }
});

/** An event service whose handlers count the calls that reach them. */
async function start({ withDescriptorSet = true } = {}) {
  const reached: string[] = [];
  const implementation: EventServiceImplementation = {
    async createLocation({ name }) {
      reached.push('createLocation');
      return { location: { id: 'l1', name } };
    },
    async listLocations() {
      return {};
    },
    async createEvent({ ticketTypes }) {
      reached.push('createEvent');
      return { event: { id: 'e1', ticketTypes } };
    },
    async getEvent() {
      return {};
    },
    async listEvents() {
      return {};
    },
    async getTicket() {
      return {};
    },
  };
  const server = createGrpcServer({ logger, ...(withDescriptorSet ? { descriptorSet: readDescriptorSet() } : {}) });
  server.add(EventServiceDefinition, implementation);
  const port = await server.listen('127.0.0.1', 0);
  const raw = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const channel = createChannel(`127.0.0.1:${port}`);
  running.push({
    server,
    close: () => {
      raw.close();
      channel.close();
    },
  });
  return { raw, events: createClient(EventServiceDefinition, channel), reached };
}

describe('request bytes that cannot be decoded', () => {
  it.each(Object.entries(malformed))('answers INVALID_ARGUMENT for %s, naming the message', async (_, body) => {
    const { raw, events, reached } = await start();
    const outcome = await sendRaw(raw, CREATE_LOCATION, body);
    expect(outcome.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(outcome.details).toMatch(/^request is not a valid ticket\.event\.v1\.CreateLocationRequest: \S/);
    expect(reached).toEqual([]);
    // The server keeps serving, on the same connection and through the generated client.
    expect((await sendRaw(raw, CREATE_LOCATION, Buffer.alloc(0))).code).toBe(grpc.status.OK);
    expect(await events.createLocation({ name: 'Hall' })).toMatchObject({ location: { name: 'Hall' } });
  });

  it('gives the decoder reason, naming the field of an illegal wire type', async () => {
    const { raw } = await start();
    expect(await sendRaw(raw, CREATE_LOCATION, malformed['wire type 7'] as Buffer)).toEqual({
      code: grpc.status.INVALID_ARGUMENT,
      details: 'request is not a valid ticket.event.v1.CreateLocationRequest: illegal tag: field no 1 wire type 7',
    });
  });

  it('still answers INVALID_ARGUMENT without a descriptor set, naming the method instead', async () => {
    const { raw } = await start({ withDescriptorSet: false });
    expect(await sendRaw(raw, CREATE_LOCATION, Buffer.alloc(16, 0xff))).toEqual({
      code: grpc.status.INVALID_ARGUMENT,
      details: `request is not a valid request message of ${CREATE_LOCATION}: invalid varint`,
    });
  });

  it('answers INVALID_ARGUMENT on the health service too', async () => {
    const { raw } = await start();
    const outcome = await sendRaw(raw, '/grpc.health.v1.Health/Check', Buffer.alloc(16, 0xff));
    expect(outcome.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('answers INVALID_ARGUMENT on a streaming call (server reflection)', async () => {
    const { raw } = await start();
    const path = '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo';
    const outcome = await sendRawOnStream(raw, path, Buffer.alloc(16, 0xff));
    expect(outcome.code).toBe(grpc.status.INVALID_ARGUMENT);
    // google-protobuf, which decodes reflection requests, only says "Assertion failed".
    expect(outcome.details).toMatch(`request is not a valid request message of ${path}: `);
  });
});

/** Opens a bidi stream, sends one message as it is and reports how the stream ends. */
function sendRawOnStream(client: grpc.Client, path: string, body: Buffer): Promise<RawOutcome> {
  const identity = (bytes: Buffer): Buffer => bytes;
  return new Promise((resolve) => {
    const stream = client.makeBidiStreamRequest(path, identity, identity, { deadline: Date.now() + 5_000 });
    stream.on('data', () => {});
    stream.on('error', (error: grpc.ServiceError) => resolve({ code: error.code, details: error.details }));
    stream.on('status', (status: grpc.StatusObject) => {
      if (status.code === grpc.status.OK) resolve({ code: status.code, details: status.details });
    });
    stream.write(body);
    stream.end();
  });
}

describe('int64 values a JavaScript number cannot hold', () => {
  it('answers INVALID_ARGUMENT naming the field, for 2^53 and for -(2^53)', async () => {
    const { raw, reached } = await start();
    for (const amount of [2n ** 53n, -(2n ** 53n)]) {
      const outcome = await sendRaw(raw, CREATE_EVENT, createEventBytes(amount));
      expect(outcome.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(outcome.details).toBe(
        'request is not a valid ticket.event.v1.CreateEventRequest: ticket_types[0].price.amount_minor: ' +
          'is out of range: must be between -9007199254740991 and 9007199254740991',
      );
    }
    expect(reached).toEqual([]);
  });

  it('names every such field, a Timestamp seconds of 2^63−1 included', async () => {
    const { raw } = await start();
    const outcome = await sendRaw(raw, CREATE_EVENT, createEventBytes(2n ** 60n, 2n ** 63n - 1n));
    expect(outcome.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(outcome.details).toContain('ends_at.seconds: is out of range');
    expect(outcome.details).toContain('ticket_types[0].price.amount_minor: is out of range');
  });

  it('decodes the largest safe integer as before', async () => {
    const { raw, reached } = await start();
    const outcome = await sendRaw(raw, CREATE_EVENT, createEventBytes(2n ** 53n - 1n));
    expect(outcome.code).toBe(grpc.status.OK);
    expect(reached).toEqual(['createEvent']);
  });
});
