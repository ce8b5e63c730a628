import { EventServiceDefinition, type EventServiceImplementation } from '@ticket/contracts/v1/event/event_service';
import { createChannel, createClient } from 'nice-grpc';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DomainError } from '../src/errors.ts';
import { createGrpcServer } from '../src/grpc/server.ts';
import { createServiceMetrics, type MetricsEndpoint, startMetricsEndpoint } from '../src/metrics.ts';
import { callStatus } from '../src/testing/grpc.ts';
import { metricSample } from '../src/testing/metrics.ts';

const logger = pino({ level: 'silent' });

/** GetEvent answers for `known` and NOT_FOUND for any other id; the other methods answer empty. */
const events: EventServiceImplementation = {
  createLocation: async () => ({}),
  listLocations: async () => ({}),
  createEvent: async () => ({}),
  async getEvent({ eventId }) {
    if (eventId !== 'known') throw new DomainError('not_found', `event ${eventId}`);
    return { event: { id: eventId } };
  },
  listEvents: async () => ({}),
  getTicket: async () => ({}),
};

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function serve(metricsPort: number | undefined) {
  const metrics = createServiceMetrics('event');
  const server = createGrpcServer({ logger, metrics });
  server.add(EventServiceDefinition, events);
  const port = await server.listen('127.0.0.1', 0);
  const endpoint: MetricsEndpoint = await startMetricsEndpoint(
    metrics,
    { METRICS_HOST: '127.0.0.1', METRICS_PORT: metricsPort },
    logger,
  );
  const channel = createChannel(`127.0.0.1:${port}`);
  closers.push(
    () => server.shutdown(),
    () => endpoint.close(),
    async () => channel.close(),
  );
  return { client: createClient(EventServiceDefinition, channel), endpoint };
}

describe('metrics', () => {
  it('count every gRPC call by method and status code and time it, at GET /metrics', async () => {
    const { client, endpoint } = await serve(0);
    await client.getEvent({ eventId: 'known' });
    await client.getEvent({ eventId: 'known' });
    expect(await callStatus(client.getEvent({ eventId: 'missing' }))).toBe('NOT_FOUND');

    const response = await fetch(`http://127.0.0.1:${endpoint.port}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const getEvent = { grpc_service: 'ticket.event.v1.EventService', grpc_method: 'GetEvent', service: 'event' };
    expect(metricSample(text, 'grpc_server_handled_total', { ...getEvent, grpc_code: 'OK' })).toBe(2);
    expect(metricSample(text, 'grpc_server_handled_total', { ...getEvent, grpc_code: 'NOT_FOUND' })).toBe(1);
    expect(metricSample(text, 'grpc_server_handling_seconds_count', getEvent)).toBe(3);
    expect(metricSample(text, 'nodejs_heap_size_used_bytes', { service: 'event' })).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${endpoint.port}/other`)).status).toBe(404);
  });

  it('are not served when METRICS_PORT is unset', async () => {
    const { endpoint } = await serve(undefined);
    expect(endpoint.port).toBeUndefined();
  });
});
