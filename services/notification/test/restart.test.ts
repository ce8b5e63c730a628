import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotificationService } from '../src/service.ts';
import {
  eventually,
  logger,
  type NotificationHarness,
  newOrder,
  notificationRows,
  orderEvent,
  sleep,
  startNotificationHarness,
} from './harness.ts';

let harness: NotificationHarness;
beforeAll(async () => {
  harness = await startNotificationHarness();
});
afterAll(() => harness?.close());

const ORDERS = 50; // × CREATED and PAID = 100 order changes

describe('restart mid-stream', () => {
  it('emails every order change exactly once when the service is stopped while consuming and a new one takes over', async () => {
    const smtp = harness.smtp!;
    smtp.setDataDelay(15); // deliveries take a while, so some are in flight when the service stops
    // Start the stream once the consumer is in its group: events published before it joins would all be recorded in
    // its first batch, and the stop would not come mid-stream.
    const warmUp = newOrder();
    await harness.publish(orderEvent(warmUp, 'CREATED'));
    await eventually(() => smtp.mailsTo(warmUp.email).length === 1, 30_000, 'the first email');
    smtp.mails.length = 0;
    const orders = Array.from({ length: ORDERS }, () => newOrder());
    const events = orders.flatMap((order) => [orderEvent(order, 'CREATED'), orderEvent(order, 'PAID')]);

    // Publish at a steady ~100 events/s in the background, and stop the service once the stream is under way.
    const publishing = (async () => {
      for (let i = 0; i < events.length; i += 5) {
        await harness.publishMany(events.slice(i, i + 5));
        await sleep(50);
      }
    })();
    await eventually(() => smtp.mails.length >= 20, 30_000, '20 emails');
    await harness.stopService();
    const atStop = smtp.mails.length;
    const [recorded] = await harness.sql<{ n: number }[]>`
      select count(*)::int as n from notification.notifications where order_id <> ${warmUp.id}`;
    // It really stopped mid-stream: events were still to be consumed, and emails still to be sent.
    expect(recorded!.n).toBeLessThan(events.length);
    expect(atStop).toBeLessThan(events.length);
    await publishing;
    await sleep(200);
    expect(smtp.mails.length).toBe(atStop); // nothing is sent while no instance runs

    await harness.startService(); // a new instance on the same database and consumer group
    await eventually(() => smtp.mails.length >= events.length, 60_000, `${events.length} emails`);
    await sleep(1_500); // anything sent twice would arrive by now

    const perChange = new Map<string, number>();
    for (const mail of smtp.mails) {
      const key = `${mail.orderId}/${mail.kind}`;
      perChange.set(key, (perChange.get(key) ?? 0) + 1);
    }
    const expected = orders.flatMap((order) => [`${order.id}/CREATED`, `${order.id}/PAID`]);
    expect([...perChange.keys()].sort()).toEqual([...expected].sort()); // none lost, none unexpected
    expect([...perChange.values()].every((count) => count === 1)).toBe(true); // none doubled
    for (const order of orders) {
      const kinds = smtp.mails.filter((mail) => mail.orderId === order.id).map((mail) => mail.kind);
      expect(kinds).toEqual(['CREATED', 'PAID']); // each order's emails in the order of its events
    }

    const rows = (await notificationRows(harness.sql)).filter((row) => row.order_id !== warmUp.id);
    expect(rows).toHaveLength(events.length);
    expect(rows.filter((row) => row.status === 'SENT')).toHaveLength(events.length);
  });

  it('runs two replicas side by side (one group, one table): every change is emailed exactly once, in order', async () => {
    const smtp = harness.smtp!;
    smtp.setDataDelay(5);
    smtp.mails.length = 0;
    const replica = await startNotificationService(harness.config, logger);
    try {
      const orders = Array.from({ length: ORDERS }, () => newOrder());
      const events = orders.flatMap((order) => [orderEvent(order, 'CREATED'), orderEvent(order, 'CANCELLED')]);
      // Both are members of the group, so the partitions (and the events) are split between them.
      const admin = harness.kafka.admin();
      await admin.connect();
      try {
        await eventually(
          async () => {
            const { groups } = await admin.describeGroups([harness.config.KAFKA_GROUP_ID]);
            return groups[0]?.state === 'Stable' && groups[0].members.length === 2;
          },
          60_000,
          'two members in the consumer group',
        );
      } finally {
        await admin.disconnect();
      }
      for (let i = 0; i < events.length; i += 10) await harness.publishMany(events.slice(i, i + 10));
      await eventually(() => smtp.mails.length >= events.length, 60_000, `${events.length} emails`);
      await sleep(1_000);
      const keys = smtp.mails.map((mail) => `${mail.orderId}/${mail.kind}`);
      expect(new Set(keys).size).toBe(events.length);
      expect(keys).toHaveLength(events.length);
      for (const order of orders) {
        const kinds = smtp.mails.filter((mail) => mail.orderId === order.id).map((mail) => mail.kind);
        expect(kinds).toEqual(['CREATED', 'CANCELLED']);
      }
    } finally {
      await replica.stop();
    }
  });

  it('delivers a notification whose claim lapsed (its process died mid-delivery) again, with the same Message-ID', async () => {
    const smtp = harness.smtp!;
    smtp.setDataDelay(0);
    await harness.stopService();
    // What a process that claimed the row and then died leaves behind: PENDING, one attempt, leased for a while.
    const orderId = randomUUID();
    const [row] = await harness.sql<{ id: string }[]>`
      insert into notification.notifications
        (user_id, order_id, source_event_id, kind, channel, status, recipient, subject, body_text, body_html,
         attempts, next_attempt_at)
      values ('user-1', ${orderId}, ${randomUUID()}, 'CREATED', 'EMAIL', 'PENDING', 'crashed@example.com',
              'Order placed', 'text', '<p>html</p>', 1, now() + interval '1500 milliseconds')
      returning id`;
    const restartedAt = Date.now();
    await harness.startService();
    const [mail] = await eventually(() => {
      const mails = smtp.mailsTo('crashed@example.com');
      return mails.length > 0 && mails;
    });
    expect(mail!.receivedAt - restartedAt).toBeGreaterThanOrEqual(1_000); // not before the claim lapsed
    expect(mail!.messageId).toBe(`<${row!.id}@ticket>`);
    const [after] = await eventually(async () => {
      const rows = await notificationRows(harness.sql, orderId);
      return rows[0]?.status === 'SENT' && rows;
    });
    expect(after!.attempts).toBe(2);
  });
});
