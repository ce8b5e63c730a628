import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  type NotificationHarness,
  newOrder,
  notificationRows,
  orderEvent,
  startNotificationHarness,
} from './harness.ts';
import { startSmtpSink } from './smtp-sink.ts';

let harness: NotificationHarness;
beforeAll(async () => {
  // 100 ms doubling, 6 attempts: a retry schedule of 0.1 + 0.2 + 0.4 + 0.8 + 1.6 s.
  harness = await startNotificationHarness({ env: { NOTIFY_RETRY_BASE_MS: '100', NOTIFY_MAX_ATTEMPTS: '6' } });
});
afterAll(() => harness?.close());

const smtp = () => harness.smtp!;

describe('delivery retries', () => {
  it('retries a temporary refusal (451) with backoff until the server accepts', async () => {
    const order = newOrder();
    let refusalsLeft = 2;
    smtp().setRecipientPolicy((address) => {
      if (address !== order.email || refusalsLeft === 0) return undefined;
      refusalsLeft -= 1;
      return { code: 451, message: 'Mailbox busy, try again later' };
    });
    await harness.publish(orderEvent(order, 'CREATED'));

    const [row] = await eventually(async () => {
      const rows = await notificationRows(harness.sql, order.id);
      return rows[0]?.status === 'SENT' && rows;
    });
    expect(row).toMatchObject({ status: 'SENT', attempts: 3 });
    expect(row!.last_error).toMatch(/^451 /);
    expect(smtp().refusals.get(order.email)).toBe(2);
    expect(smtp().mailsTo(order.email)).toHaveLength(1);
  });

  it('gives up at once on a permanent refusal (550), records the error, and still delivers later events', async () => {
    const gone = newOrder();
    smtp().setRecipientPolicy((address) =>
      address === gone.email ? { code: 550, message: 'No such user here' } : undefined,
    );
    await harness.publish(orderEvent(gone, 'CREATED'));
    const [failed] = await eventually(async () => {
      const rows = await notificationRows(harness.sql, gone.id);
      return rows[0]?.status === 'FAILED' && rows;
    });
    expect(failed).toMatchObject({ status: 'FAILED', attempts: 1, sent_at: null });
    expect(failed!.last_error).toMatch(/^550 .*No such user here/);
    expect(smtp().refusals.get(gone.email)).toBe(1);

    // The order's next change, and other orders, go out as usual.
    const other = newOrder();
    await harness.publishMany([orderEvent(gone, 'EXPIRED'), orderEvent(other, 'CREATED')]);
    await eventually(() => smtp().mailsTo(other.email).length === 1, 30_000, 'the other order’s email');
    const rows = await eventually(async () => {
      const all = await notificationRows(harness.sql, gone.id);
      return all.length === 2 && all[1]!.status !== 'PENDING' && all;
    });
    expect(rows.map((row) => [row.kind, row.status])).toEqual([
      ['CREATED', 'FAILED'],
      ['EXPIRED', 'FAILED'], // still refused: that address does not exist
    ]);
  });

  it('fails after the last attempt when the refusals never stop, and later emails of the order wait for it', async () => {
    const order = newOrder();
    smtp().setRecipientPolicy((address) =>
      address === order.email ? { code: 421, message: 'Service not available' } : undefined,
    );
    await harness.publishMany([orderEvent(order, 'CREATED'), orderEvent(order, 'CANCELLED')]);
    // While CREATED is still being retried, CANCELLED must not overtake it.
    await eventually(() => (smtp().refusals.get(order.email) ?? 0) >= 2, 30_000, 'two refusals');
    const whileRetrying = await notificationRows(harness.sql, order.id);
    expect(whileRetrying.map((row) => [row.kind, row.status])).toEqual([
      ['CREATED', 'PENDING'],
      ['CANCELLED', 'PENDING'],
    ]);
    expect(whileRetrying[1]!.attempts).toBe(0);

    const [created] = await eventually(async () => {
      const rows = await notificationRows(harness.sql, order.id);
      return rows[0]?.status === 'FAILED' && rows;
    });
    expect(created).toMatchObject({ attempts: 6 });
    expect(created!.last_error).toMatch(/^421 /);
    smtp().setRecipientPolicy(undefined);
    // CREATED gave up, so CANCELLED goes (and this time the server takes it).
    await eventually(() => smtp().mailsTo(order.email).length === 1, 30_000, 'the CANCELLED email');
    expect(smtp().mailsTo(order.email)[0]!.kind).toBe('CANCELLED');
  });

  it('retries while the SMTP server is down and delivers once it is back', async () => {
    await smtp().close();
    const order = newOrder();
    await harness.publish(orderEvent(order, 'PAID'));
    const [waiting] = await eventually(async () => {
      const rows = await notificationRows(harness.sql, order.id);
      return rows[0] !== undefined && rows[0].attempts >= 2 && rows;
    });
    expect(waiting!.status).toBe('PENDING');
    expect(waiting!.last_error).toMatch(/ECONNREFUSED|connect/i);

    const back = await startSmtpSink(harness.config.SMTP_PORT);
    try {
      await eventually(() => back.mailsTo(order.email).length === 1, 30_000, 'the email after the server came back');
      const [sent] = await eventually(async () => {
        const rows = await notificationRows(harness.sql, order.id);
        return rows[0]?.status === 'SENT' && rows;
      });
      expect(sent!.attempts).toBeGreaterThan(1);
      expect(back.mailsTo(order.email)[0]!.text).toContain('TCK-0001');
    } finally {
      await back.close();
    }
  });
});
