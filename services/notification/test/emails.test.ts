import { randomUUID } from 'node:crypto';
import { EventTypeHeader } from '@ticket/contracts/topology';
import { DeadLetterHeader } from '@ticket/platform';
import { readMessages } from '@ticket/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  type NotificationHarness,
  newOrder,
  notificationRows,
  orderEvent,
  startNotificationHarness,
} from './harness.ts';

let harness: NotificationHarness;
beforeAll(async () => {
  harness = await startNotificationHarness();
});
afterAll(() => harness?.close());

const smtp = () => harness.smtp!;
const mailsFor = (orderId: string) => smtp().mails.filter((mail) => mail.orderId === orderId);

describe('order changes become emails', () => {
  it('CREATED, PAID, CANCELLED, EXPIRED (with refund) and FAILED each send the right email', async () => {
    const paid = newOrder();
    const cancelled = newOrder();
    const expired = newOrder();
    const failed = newOrder();
    await harness.publishMany([
      orderEvent(paid, 'CREATED'),
      orderEvent(paid, 'PAID', { ticketCodes: ['TCK-AAAA-0001', 'TCK-BBBB-0002'] }),
      orderEvent(cancelled, 'CANCELLED'),
      orderEvent(expired, 'EXPIRED', { refundPaymentReference: 'late-pay-77' }),
      orderEvent(failed, 'FAILED', { failureReason: 'seats sold out' }),
    ]);
    await eventually(() => smtp().mails.length >= 5, 30_000, 'five emails');

    const [created, paidMail] = mailsFor(paid.id);
    expect(mailsFor(paid.id)).toHaveLength(2);
    expect(created).toMatchObject({ to: [paid.email], kind: 'CREATED' });
    expect(created!.subject).toBe(
      `Order #${paid.id.slice(0, 8).toUpperCase()} placed: please pay by 23 Nov 2026, 10:15 UTC`,
    );
    expect(created!.text).toContain('Please pay €25.00 by 23 Nov 2026, 10:15 UTC');
    expect(created!.html).toContain('<strong>€25.00</strong>');
    // One order's emails go out in the order of its events.
    expect(paidMail).toMatchObject({ to: [paid.email], kind: 'PAID' });
    expect(paidMail!.receivedAt).toBeGreaterThanOrEqual(created!.receivedAt);
    expect(paidMail!.subject).toBe(`Your tickets for order #${paid.id.slice(0, 8).toUpperCase()}`);
    for (const body of [paidMail!.text, paidMail!.html]) {
      expect(body).toContain('TCK-AAAA-0001');
      expect(body).toContain('TCK-BBBB-0002');
      expect(body).toContain('€25.00');
    }

    const [cancelledMail] = mailsFor(cancelled.id);
    expect(cancelledMail).toMatchObject({ to: [cancelled.email], kind: 'CANCELLED' });
    expect(cancelledMail!.subject).toMatch(/^Order #[0-9A-F]{8} cancelled$/);

    const [expiredMail] = mailsFor(expired.id);
    expect(expiredMail).toMatchObject({ to: [expired.email], kind: 'EXPIRED' });
    expect(expiredMail!.subject).toMatch(/expired: your payment will be refunded$/);
    expect(expiredMail!.text).toContain('Your payment (reference late-pay-77) arrived after the order had expired');

    const [failedMail] = mailsFor(failed.id);
    expect(failedMail).toMatchObject({ to: [failed.email], kind: 'FAILED' });
    expect(failedMail!.text).toContain('could not be completed: seats sold out.');

    // What was sent is recorded: SENT through EMAIL, one attempt, the Message-ID names the notification.
    const rows = await eventually(async () => {
      const all = await notificationRows(harness.sql);
      return all.length === 5 && all.every((row) => row.status === 'SENT') && all;
    });
    for (const row of rows) {
      expect(row).toMatchObject({ channel: 'EMAIL', attempts: 1, last_error: null });
      expect(row.sent_at).toBeInstanceOf(Date);
      const mail = smtp().mails.find((candidate) => candidate.messageId === `<${row.id}@ticket>`);
      expect(mail?.orderId).toBe(row.order_id);
      expect(mail?.subject).toBe(row.subject);
    }
  });

  it('sends one email when the same event arrives twice, or the same change under a new event id', async () => {
    const order = newOrder();
    const created = orderEvent(order, 'CREATED');
    await harness.publish(created);
    await harness.publish(created); // redelivery: same event id
    const createdAgain = orderEvent(order, 'CREATED');
    await harness.publish(createdAgain); // same change, new event id
    const paid = orderEvent(order, 'PAID');
    await harness.publish(paid);
    await harness.publish(paid);
    // Everything before the last one is handled once its email arrived (one partition per order, in order).
    const paidAgain = orderEvent(order, 'PAID');
    await harness.publish(paidAgain);
    const marker = orderEvent(order, 'CANCELLED');
    await harness.publish(marker);
    await eventually(() => mailsFor(order.id).some((mail) => mail.kind === 'CANCELLED'), 30_000, 'the marker email');

    expect(mailsFor(order.id).map((mail) => mail.kind)).toEqual(['CREATED', 'PAID', 'CANCELLED']);
    const rows = await notificationRows(harness.sql, order.id);
    expect(rows.map((row) => [row.kind, row.source_event_id])).toEqual([
      ['CREATED', created.eventId],
      ['PAID', paid.eventId],
      ['CANCELLED', marker.eventId],
    ]);
    // The five distinct event ids of this test were each recorded once as processed.
    const ids = [created, createdAgain, paid, paidAgain, marker].map((event) => event.eventId);
    const processed = await harness.sql<{ event_id: string }[]>`
      select event_id from notification.processed_events
      where consumer_group = ${harness.config.KAFKA_GROUP_ID} and event_id = any(${ids})`;
    expect(processed.map((row) => row.event_id).sort()).toEqual([...ids].sort());
  });

  it('records an order without an email address as SKIPPED on the log channel, and sends nothing', async () => {
    const order = newOrder({ email: '' });
    const invalid = newOrder({ email: 'not an address' });
    await harness.publishMany([orderEvent(order, 'CREATED'), orderEvent(invalid, 'CREATED')]);
    const marker = newOrder();
    await harness.publish(orderEvent(marker, 'CREATED'));
    await eventually(() => mailsFor(marker.id).length === 1, 30_000, 'the marker email');
    const [skipped] = await eventually(async () => {
      const rows = await notificationRows(harness.sql, order.id);
      return rows.length === 1 && rows;
    });
    expect(skipped).toMatchObject({ status: 'SKIPPED', channel: 'LOG', recipient: '', attempts: 0 });
    expect(skipped!.last_error).toBe('the order has no email address');
    const [garbled] = await eventually(async () => {
      const rows = await notificationRows(harness.sql, invalid.id);
      return rows.length === 1 && rows;
    });
    expect(garbled).toMatchObject({ status: 'SKIPPED', channel: 'LOG', recipient: '' });
    expect(mailsFor(order.id)).toHaveLength(0);
    expect(mailsFor(invalid.id)).toHaveLength(0);
  });
});

describe('poison messages', () => {
  it('parks garbage and messages without an event id on the dead-letter topic, and goes on', async () => {
    const key = randomUUID();
    const garbageId = randomUUID();
    await harness.publishRaw({
      key,
      value: Buffer.from('definitely not protobuf \xff\xfe'),
      headers: { 'event-id': garbageId, 'event-type': EventTypeHeader.orderCreated },
    });
    await harness.publishRaw({ key, value: Buffer.from('no headers at all') });
    // A valid OrderEvent of an unknown type is just as unusable.
    const unknown = orderEvent(newOrder(), 'CREATED');
    unknown.eventType = 99 as typeof unknown.eventType;
    await harness.publish(unknown);

    const after = newOrder();
    await harness.publish(orderEvent(after, 'CREATED'));
    await eventually(() => mailsFor(after.id).length === 1, 30_000, 'the email after the poison messages');

    const parked = await readMessages(harness.kafka, harness.config.ORDER_EVENTS_DLQ_TOPIC, 3);
    const byEventId = new Map(parked.map((message) => [message.headers['event-id'], message]));
    const garbage = byEventId.get(garbageId);
    expect(garbage?.headers[DeadLetterHeader.reason]).toMatch(
      /^(not an OrderEvent|order event without an order|unknown order event type)/,
    );
    expect(garbage?.headers[DeadLetterHeader.originalTopic]).toBe(harness.config.ORDER_EVENTS_TOPIC);
    expect(garbage?.headers[DeadLetterHeader.consumerGroup]).toBe(harness.config.KAFKA_GROUP_ID);
    expect(garbage?.value?.toString('latin1')).toContain('definitely not protobuf');
    expect(byEventId.get(unknown.eventId)?.headers[DeadLetterHeader.reason]).toBe('unknown order event type 99');
    const headerless = parked.find((message) => message.headers['event-id'] === undefined);
    expect(headerless?.headers[DeadLetterHeader.reason]).toBe('missing event-id header');
    expect(await notificationRows(harness.sql, unknown.order!.id)).toHaveLength(0);
  });
});
