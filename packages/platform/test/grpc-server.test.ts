import { setTimeout as sleep } from 'node:timers/promises';
import { readDescriptorSet } from '@ticket/contracts/descriptor-set';
import { EventServiceDefinition, type EventServiceImplementation } from '@ticket/contracts/v1/event/event_service';
import { type Channel, createChannel, createClient, Metadata, type ServerMiddleware, Status } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import { HealthCheckResponse_ServingStatus as ServingStatus } from 'nice-grpc-server-health/lib/proto/grpc/health/v1/health.js';
import reflectionMessages from 'nice-grpc-server-reflection/lib/proto/grpc/reflection/v1/reflection_pb.js';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DomainError } from '../src/errors.ts';
import { ServerReflectionService, ServerReflectionV1AlphaService } from '../src/grpc/reflection.ts';
import { createGrpcServer, type GrpcServer, type GrpcServerOptions } from '../src/grpc/server.ts';
import { callStatus } from '../src/testing/grpc.ts';

const { ServerReflectionRequest } = reflectionMessages;
const logger = pino({ level: 'silent' });

/** GetEvent waits `slowMs` (or until the call is cancelled) and tells when it started and how it ended. */
function slowEventService(slowMs: number) {
  const started = Promise.withResolvers<void>();
  const observed = { cancelled: false };
  const implementation: EventServiceImplementation = {
    async createLocation() {
      return {};
    },
    async listLocations() {
      return {};
    },
    async createEvent() {
      return {};
    },
    async getEvent({ eventId }, context) {
      started.resolve();
      try {
        await sleep(slowMs, undefined, { signal: context.signal });
      } catch (error) {
        observed.cancelled = context.signal.aborted;
        throw error;
      }
      return { event: { id: eventId } };
    },
    async listEvents() {
      return {};
    },
    async getTicket() {
      return {};
    },
  };
  return { implementation, started: started.promise, observed };
}

const running: Array<{ server: GrpcServer; channel: Channel }> = [];

async function start(options: Partial<GrpcServerOptions> = {}, slowMs = 300) {
  const service = slowEventService(slowMs);
  const server = createGrpcServer({ logger, ...options });
  server.add(EventServiceDefinition, service.implementation);
  const port = await server.listen('127.0.0.1', 0);
  const channel = createChannel(`127.0.0.1:${port}`);
  running.push({ server, channel });
  return {
    ...service,
    server,
    port,
    events: createClient(EventServiceDefinition, channel),
    health: createClient(HealthDefinition, channel),
  };
}

afterEach(async () => {
  for (const { server, channel } of running.splice(0)) {
    channel.close();
    await server.shutdown();
  }
});

/** Asks a reflection service (v1 or v1alpha) which services the server has. */
async function listServices(
  port: number,
  definition: typeof ServerReflectionService | typeof ServerReflectionV1AlphaService,
): Promise<string[]> {
  const channel = createChannel(`127.0.0.1:${port}`);
  try {
    const reflection = createClient(definition, channel);
    async function* requests() {
      yield new ServerReflectionRequest().setListServices('*');
    }
    for await (const response of reflection.serverReflectionInfo(requests())) {
      return (
        response
          .getListServicesResponse()
          ?.getServiceList()
          .map((service) => service.getName()) ?? []
      );
    }
    return [];
  } finally {
    channel.close();
  }
}

describe('gRPC server', () => {
  it('listens on the port it returns', async () => {
    const { port, events } = await start({}, 0);
    expect(port).toBeGreaterThan(0);
    expect(await events.getEvent({ eventId: 'e1' })).toMatchObject({ event: { id: 'e1' } });
  });

  it('answers grpc.health.v1 Check with SERVING for the server and for each added service', async () => {
    const { health } = await start();
    expect(await health.check({ service: '' })).toEqual({ status: ServingStatus.SERVING });
    expect(await health.check({ service: 'ticket.event.v1.EventService' })).toEqual({ status: ServingStatus.SERVING });
    expect(await callStatus(health.check({ service: 'ticket.nope.v1.Nope' }))).toBe('NOT_FOUND');
  });

  it('reports the status set through its health API, overall or per service', async () => {
    const { server, health } = await start();
    server.health.setNotServing('ticket.event.v1.EventService');
    expect(await health.check({ service: 'ticket.event.v1.EventService' })).toEqual({
      status: ServingStatus.NOT_SERVING,
    });
    expect(await health.check({ service: '' })).toEqual({ status: ServingStatus.SERVING });
    server.health.setNotServing();
    expect(server.health.status()).toBe('NOT_SERVING');
    expect(await health.check({ service: '' })).toEqual({ status: ServingStatus.NOT_SERVING });
    server.health.setServing();
    expect(await health.check({ service: 'ticket.event.v1.EventService' })).toEqual({
      status: ServingStatus.SERVING,
    });
  });

  it('lists the added services through server reflection, v1 and v1alpha', async () => {
    const { port } = await start({ descriptorSet: readDescriptorSet() });
    expect(await listServices(port, ServerReflectionService)).toEqual(['ticket.event.v1.EventService']);
    expect(await listServices(port, ServerReflectionV1AlphaService)).toEqual(['ticket.event.v1.EventService']);
  });

  it('serves the file that defines a service, so grpcurl can describe and call it', async () => {
    const { port } = await start({ descriptorSet: readDescriptorSet() });
    const channel = createChannel(`127.0.0.1:${port}`);
    try {
      const reflection = createClient(ServerReflectionService, channel);
      async function* requests() {
        yield new ServerReflectionRequest().setFileContainingSymbol('ticket.event.v1.EventService');
      }
      for await (const response of reflection.serverReflectionInfo(requests())) {
        expect(response.hasErrorResponse()).toBe(false);
        expect(response.getFileDescriptorResponse()?.getFileDescriptorProtoList()).toHaveLength(1);
        break;
      }
    } finally {
      channel.close();
    }
  });

  it('runs the extra middleware on added services only, with its context reaching the handlers', async () => {
    const authenticate: ServerMiddleware<{ userId: string }> = async function* authenticate(call, context) {
      const userId = context.metadata.get('x-user-id');
      if (userId === undefined) throw new DomainError('unauthenticated', 'missing x-user-id');
      return yield* call.next(call.request, { ...context, userId });
    };
    const server = createGrpcServer({ logger, middleware: authenticate });
    const { implementation } = slowEventService(0);
    server.add(EventServiceDefinition, {
      ...implementation,
      async getEvent(_request, { userId }) {
        return { event: { id: `seen by ${userId}` } };
      },
    });
    const port = await server.listen('127.0.0.1', 0);
    const channel = createChannel(`127.0.0.1:${port}`);
    running.push({ server, channel });
    const events = createClient(EventServiceDefinition, channel);
    expect(await callStatus(events.getEvent({ eventId: 'e1' }))).toBe('UNAUTHENTICATED');
    const response = await events.getEvent({ eventId: 'e1' }, { metadata: Metadata({ 'x-user-id': 'u1' }) });
    expect(response.event?.id).toBe('seen by u1');
    expect(await createClient(HealthDefinition, channel).check({ service: '' })).toEqual({
      status: ServingStatus.SERVING,
    });
  });

  it('has no reflection service without a descriptor set', async () => {
    const { port } = await start();
    await expect(listServices(port, ServerReflectionService)).rejects.toMatchObject({ code: Status.UNIMPLEMENTED });
  });
});

describe('gRPC server shutdown', () => {
  it('reports NOT_SERVING as soon as shutdown starts', async () => {
    const { server, health } = await start({ drainDelayMs: 300 });
    const stopped = server.shutdown();
    expect(await health.check({ service: '' })).toEqual({ status: ServingStatus.NOT_SERVING });
    expect(await health.check({ service: 'ticket.event.v1.EventService' })).toEqual({
      status: ServingStatus.NOT_SERVING,
    });
    await stopped;
  });

  it('lets an in-flight call finish, then refuses new calls', async () => {
    const { server, events, started } = await start({}, 300);
    const inFlight = events.getEvent({ eventId: 'slow' });
    await started;
    const begun = performance.now();
    const stopped = server.shutdown();
    expect(await inFlight).toMatchObject({ event: { id: 'slow' } });
    await stopped;
    expect(performance.now() - begun).toBeGreaterThan(200);
    expect(await callStatus(events.getEvent({ eventId: 'after' }))).toBe('UNAVAILABLE');
  });

  it('cancels calls still running after the shutdown timeout', async () => {
    const { server, events, started, observed } = await start({ shutdownTimeoutMs: 200 }, 10_000);
    const inFlight = callStatus(events.getEvent({ eventId: 'stuck' }));
    await started;
    const begun = performance.now();
    await server.shutdown();
    // 200 ms plus cancelling, well short of the 10 s the call would otherwise run.
    expect(performance.now() - begun).toBeLessThan(5_000);
    expect(['CANCELLED', 'UNAVAILABLE']).toContain(await inFlight);
    expect(observed.cancelled).toBe(true);
  });

  it('ends open health Watch streams instead of waiting for them', async () => {
    const { server, health } = await start({ shutdownTimeoutMs: 5_000 });
    const seen: number[] = [];
    const watching = (async () => {
      for await (const { status } of health.watch({ service: '' })) seen.push(status);
    })();
    await expect.poll(() => seen).toEqual([ServingStatus.SERVING]);
    const begun = performance.now();
    await server.shutdown();
    // Well short of the 5 s shutdown timeout an open stream would otherwise hold it for.
    expect(performance.now() - begun).toBeLessThan(2_500);
    await watching;
    expect(seen).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
  });

  it('returns the same promise when called twice', async () => {
    const { server } = await start();
    expect(server.shutdown()).toBe(server.shutdown());
  });
});
