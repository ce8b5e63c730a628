import { DeadLetterHeader } from '@ticket/platform';
import { readMessages } from '@ticket/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  type Kind,
  type NotificationHarness,
  newOrder,
  notificationRows,
  orderEvent,
  startNotificationHarness,
  type TestOrder,
} from './harness.ts';

// The consumer records a fetched batch in one transaction (KAFKA_CONSUMER_BATCH_SIZE). Events published while the
// service is stopped arrive in one fetch when it starts, so these tests know their events share a batch.

let harness: NotificationHarness;
beforeAll(async () => {
  harness = await startNotificationHarness();
});
afterAll(() => harness?.close());

const smtp = () => harness.smtp!;
const kindsMailedTo = (order: TestOrder) =>
  smtp()
    .mails.filter((mail) => mail.orderId === order.id)
    .sort((a, b) => a.receivedAt - b.receivedAt)
    .map((mail) => mail.kind);

async function processedEventIds(): Promise<string[]> {
  const rows = await harness.sql<{ event_id: string }[]>`select event_id from notification.processed_events`;
  return rows.map((row) => row.event_id);
}

describe('order events consumed in batches', () => {
  it("keeps each order's emails in event order and records a change delivered or announced twice once", async () => {
    const orders = Array.from({ length: 6 }, () => newOrder());
    const created = orders.map((order) => orderEvent(order, 'CREATED'));
    const paid = orders.map((order) => orderEvent(order, 'PAID'));
    await harness.stopService();
    // Interleaved orders, every event twice in the same batch (a producer retry publishes a second copy), and each
    // CREATED announced again under a new event id (one INSERT for the batch must still record it once).
    const announcedAgain = orders.map((order) => orderEvent(order, 'CREATED'));
    await harness.publishMany([...created, ...paid, ...created, ...paid, ...announcedAgain]);
    await harness.startService();
    await eventually(() => smtp().mails.length >= 12, 30_000, 'the CREATED and PAID emails');

    // The same events again in a later batch (a redelivery after a crash), then one more change of each order: it
    // comes after the copies in the order's partition, so once its email is in, the copies have been consumed.
    await harness.publishMany([...created, ...paid]);
    await harness.publishMany(orders.map((order) => orderEvent(order, 'CANCELLED')));
    await eventually(() => smtp().mails.length >= 18, 30_000, 'the CANCELLED emails');

    const expected: Kind[] = ['CREATED', 'PAID', 'CANCELLED'];
    for (const order of orders) {
      expect(kindsMailedTo(order)).toEqual(expected);
      expect((await notificationRows(harness.sql, order.id)).map((row) => row.kind)).toEqual(expected);
    }
    const processed = await processedEventIds();
    for (const event of [...created, ...paid]) expect(processed.filter((id) => id === event.eventId)).toHaveLength(1);
  });

  it('records the rest of a batch and dead-letters the one message in it that cannot be handled', async () => {
    const before = newOrder();
    const after = newOrder();
    const poison = orderEvent(newOrder(), 'CREATED');
    poison.eventType = 99 as typeof poison.eventType;
    await harness.stopService();
    await harness.publishMany([orderEvent(before, 'CREATED'), poison, orderEvent(after, 'CREATED')]);
    await harness.startService();
    await eventually(
      () => kindsMailedTo(before).length === 1 && kindsMailedTo(after).length === 1,
      30_000,
      'the emails on either side of the poison message',
    );

    const parked = await readMessages(harness.kafka, harness.config.ORDER_EVENTS_DLQ_TOPIC, 1);
    expect(parked[0]?.headers['event-id']).toBe(poison.eventId);
    expect(parked[0]?.headers[DeadLetterHeader.reason]).toBe('unknown order event type 99');
    expect(await notificationRows(harness.sql, poison.order!.id)).toHaveLength(0);
    expect(await processedEventIds()).not.toContain(poison.eventId);
  });
});
