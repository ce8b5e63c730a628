import { type KafkaBroker, startKafkaBroker } from '@ticket/platform/testing';
import { type Channel, createChannel, createClient } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import { HealthCheckResponse_ServingStatus } from 'nice-grpc-server-health/lib/proto/grpc/health/v1/health.js';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  type NotificationHarness,
  newOrder,
  notificationRows,
  orderEvent,
  startNotificationHarness,
} from './harness.ts';

// A broker of this file's own, so that stopping it leaves the other test files' broker alone.
let broker: KafkaBroker;
let harness: NotificationHarness;
let channel: Channel;

beforeAll(async () => {
  broker = await startKafkaBroker();
  harness = await startNotificationHarness({ brokers: broker.brokers, smtp: false });
  channel = createChannel(`127.0.0.1:${harness.service.port}`);
}, 180_000);
afterAll(async () => {
  channel?.close();
  await harness?.close();
  await broker?.destroy();
}, 60_000);

const { SERVING, NOT_SERVING } = HealthCheckResponse_ServingStatus;

async function servingStatus(service = ''): Promise<HealthCheckResponse_ServingStatus | string> {
  try {
    return (await createClient(HealthDefinition, channel).check({ service })).status;
  } catch (error) {
    return String(error);
  }
}

const becomes = (status: HealthCheckResponse_ServingStatus, timeoutMs = 60_000) =>
  eventually(
    async () => (await servingStatus()) === status,
    timeoutMs,
    `health ${HealthCheckResponse_ServingStatus[status]}`,
  );

describe('health', () => {
  it('is SERVING once Postgres, Kafka and the consumer are up', async () => {
    await becomes(SERVING);
    expect(await servingStatus('ticket.notification.v1.NotificationService')).toBe(SERVING);
  });

  it('is NOT_SERVING while the Kafka broker is down, and SERVING again when it is back', async () => {
    await becomes(SERVING);
    await broker.stop();
    await becomes(NOT_SERVING, 30_000);
    expect(await servingStatus('ticket.notification.v1.NotificationService')).toBe(NOT_SERVING);
    // ListNotifications still answers from Postgres meanwhile.
    expect((await harness.list({ userId: 'user-1' }, 'user-1')).notifications).toEqual([]);

    await broker.restart();
    await becomes(SERVING, 120_000);
    // And the consumer really works again: an event published now is handled.
    const order = newOrder();
    await harness.publish(orderEvent(order, 'CREATED'));
    await eventually(async () => (await notificationRows(harness.sql, order.id))[0]?.status === 'SENT', 60_000);
  }, 240_000);

  it('is NOT_SERVING while the database is unreachable, and SERVING again when it is back', async () => {
    await becomes(SERVING);
    // Refuse this database's connections and cut the open ones: the service's pool cannot reach Postgres.
    const admin = postgres(harness.database.url.replace(/\/[^/]+$/, '/postgres'), { max: 1, onnotice: () => {} });
    const name = harness.database.name;
    try {
      await admin.unsafe(`alter database "${name}" with allow_connections false`);
      await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid()`;
      await becomes(NOT_SERVING, 30_000);
    } finally {
      await admin.unsafe(`alter database "${name}" with allow_connections true`);
      await admin.end();
    }
    await becomes(SERVING, 30_000);
  }, 120_000);
});
