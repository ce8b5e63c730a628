import { randomUUID } from 'node:crypto';
import { OrderStatus, RefundReason } from '@ticket/contracts/v1/checkout/checkout_service';
import { DeliveryStatus, NotificationKind } from '@ticket/contracts/v1/notification/notification_service';
import { DeadLetterHeader } from '@ticket/platform';
import { readMessages } from '@ticket/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  type NotificationHarness,
  newOrder,
  notificationRows,
  orderEvent,
  refundOf,
  startNotificationHarness,
} from './harness.ts';

// The emails of checkout's payment and refund events (issue 11): a declined attempt, a refund of tickets, a late
// payment refunded. Real Kafka, Postgres and SMTP, as in emails.test.ts.

let harness: NotificationHarness;
beforeAll(async () => {
  harness = await startNotificationHarness();
});
afterAll(() => harness?.close());

const smtp = () => harness.smtp!;
const mailsFor = (orderId: string) => smtp().mails.filter((mail) => mail.orderId === orderId);
const reference = (orderId: string) => `#${orderId.slice(0, 8).toUpperCase()}`;
const PAY_URL = 'http://127.0.0.1:50650/pay/sandbox_pay_1?token=a&b';

describe('payment and refund events become emails', () => {
  it('PAYMENT_FAILED, REFUNDED and LATE_PAYMENT_REFUNDED each send one email with what the buyer needs', async () => {
    const declined = newOrder();
    const refunded = newOrder();
    const late = newOrder();
    await harness.publishMany([
      orderEvent(declined, 'CREATED', { payUrl: PAY_URL }),
      orderEvent(declined, 'PAYMENT_FAILED', { payUrl: PAY_URL }),
      orderEvent(refunded, 'PAID', { ticketCodes: ['TCK-VOID-0001', 'TCK-KEEP-0002'] }),
      orderEvent(refunded, 'REFUNDED', {
        ticketCodes: ['TCK-VOID-0001', 'TCK-KEEP-0002'],
        voidedCodes: ['TCK-VOID-0001'],
        refund: refundOf({ ticketCodes: ['TCK-VOID-0001'] }),
      }),
      orderEvent(late, 'LATE_PAYMENT_REFUNDED', {
        refund: refundOf({
          paymentId: 'sandbox_pay_late',
          amount: { amountMinor: 2500, currency: 'EUR' },
          reason: RefundReason.REFUND_REASON_LATE_PAYMENT,
        }),
      }),
    ]);
    await eventually(() => smtp().mails.length >= 5, 30_000, 'five emails');

    const [createdMail, failedMail] = mailsFor(declined.id);
    expect(mailsFor(declined.id)).toHaveLength(2);
    // The pay link, now that checkout gives the order a pay page.
    expect(createdMail!.text).toContain(`Pay €25.00 now: ${PAY_URL}`);
    expect(failedMail).toMatchObject({ to: [declined.email], kind: 'PAYMENT_FAILED' });
    expect(failedMail!.subject).toBe(
      `Payment failed for order ${reference(declined.id)} — you can try again until 23 Nov 2026, 10:15 UTC`,
    );
    expect(failedMail!.text).toContain(
      `Your payment of €25.00 for order ${reference(declined.id)} did not go through.`,
    );
    expect(failedMail!.text).toContain(`Pay €25.00 now: ${PAY_URL}`);
    expect(failedMail!.html).toContain(`<a href="${PAY_URL.replace('&', '&amp;')}"`);

    const [, refundMail] = mailsFor(refunded.id);
    expect(mailsFor(refunded.id)).toHaveLength(2);
    expect(refundMail).toMatchObject({ to: [refunded.email], kind: 'REFUNDED' });
    expect(refundMail!.subject).toBe(`Refund of €12.50 for order ${reference(refunded.id)}`);
    expect(refundMail!.text).toContain(
      'These tickets are now void and no longer admit anyone:\n  TCK-VOID-0001  Standing',
    );
    expect(refundMail!.text).toContain(
      'These tickets remain valid (show the code at the entrance):\n  TCK-KEEP-0002  Standing',
    );
    expect(refundMail!.html).toContain('TCK-VOID-0001');
    expect(refundMail!.html).toContain('TCK-KEEP-0002');

    const [lateMail] = mailsFor(late.id);
    expect(mailsFor(late.id)).toHaveLength(1);
    expect(lateMail).toMatchObject({ to: [late.email], kind: 'LATE_PAYMENT_REFUNDED' });
    expect(lateMail!.subject).toBe(`Your late payment of €25.00 for order ${reference(late.id)} was refunded`);
    expect(lateMail!.text).toContain(
      `Your payment (reference sandbox_pay_late) arrived after order ${reference(late.id)} had expired`,
    );
    expect(lateMail!.text).toContain(
      'We refunded it in full on 24 Nov 2026, 09:01 UTC: €25.00 goes back the way you paid',
    );

    const rows = await eventually(async () => {
      const all = await notificationRows(harness.sql);
      return all.length === 5 && all.every((row) => row.status === 'SENT') && all;
    });
    for (const row of rows) {
      const mail = smtp().mails.find((candidate) => candidate.messageId === `<${row.id}@ticket>`);
      expect(mail).toMatchObject({ orderId: row.order_id, kind: row.kind, subject: row.subject });
    }
  });

  it('a redelivered event sends nothing twice; each declined attempt and each refund sends its own', async () => {
    const declined = newOrder();
    const firstAttempt = orderEvent(declined, 'PAYMENT_FAILED', { payUrl: PAY_URL });
    const secondAttempt = orderEvent(declined, 'PAYMENT_FAILED', { payUrl: PAY_URL });
    const expired = orderEvent(declined, 'EXPIRED');
    await harness.publishMany([firstAttempt, firstAttempt, secondAttempt, secondAttempt]);
    await harness.publish(expired); // the order's last event: once its email is here, everything before it is handled
    await eventually(() => mailsFor(declined.id).some((mail) => mail.kind === 'EXPIRED'), 30_000, 'the EXPIRED email');
    expect(mailsFor(declined.id).map((mail) => mail.kind)).toEqual(['PAYMENT_FAILED', 'PAYMENT_FAILED', 'EXPIRED']);

    const paid = newOrder();
    const codes = ['TCK-A-0001', 'TCK-B-0002'];
    const firstRefund = refundOf({ ticketCodes: ['TCK-A-0001'] });
    const refundedOnce = orderEvent(paid, 'REFUNDED', {
      ticketCodes: codes,
      voidedCodes: ['TCK-A-0001'],
      refund: firstRefund,
    });
    // Checkout announcing the same refund again under a new event id (a repeated confirmation).
    const sameRefundAgain = orderEvent(paid, 'REFUNDED', {
      ticketCodes: codes,
      voidedCodes: ['TCK-A-0001'],
      refund: firstRefund,
    });
    const duplicatePayment = orderEvent(paid, 'LATE_PAYMENT_REFUNDED', {
      status: OrderStatus.ORDER_STATUS_PARTIALLY_REFUNDED,
      refund: refundOf({
        paymentId: 'sandbox_pay_2',
        amount: { amountMinor: 2500, currency: 'EUR' },
        reason: RefundReason.REFUND_REASON_DUPLICATE_PAYMENT,
      }),
    });
    const refundedRest = orderEvent(paid, 'REFUNDED', {
      status: OrderStatus.ORDER_STATUS_REFUNDED,
      ticketCodes: codes,
      voidedCodes: codes,
      refund: refundOf({ ticketCodes: ['TCK-B-0002'] }),
    });
    await harness.publishMany([
      orderEvent(paid, 'PAID', { ticketCodes: codes }),
      refundedOnce,
      refundedOnce,
      sameRefundAgain,
      duplicatePayment,
      duplicatePayment,
    ]);
    await harness.publish(refundedRest);
    const isLast = (text: string) => text.includes('No ticket of this order remains valid.');
    await eventually(() => mailsFor(paid.id).some((mail) => isLast(mail.text)), 30_000, 'the last refund email');

    const mails = mailsFor(paid.id);
    expect(mails.map((mail) => mail.kind)).toEqual(['PAID', 'REFUNDED', 'LATE_PAYMENT_REFUNDED', 'REFUNDED']);
    expect(mails[2]!.subject).toBe(`Your extra payment of €25.00 for order ${reference(paid.id)} was refunded`);
    expect(mails[3]!.text).toContain('Every ticket of the order is refunded; the order is closed.');
    const rows = await notificationRows(harness.sql, paid.id);
    expect(rows.map((row) => row.source_event_id).slice(1)).toEqual([
      refundedOnce.eventId,
      duplicatePayment.eventId,
      refundedRest.eventId,
    ]);
    // Every distinct event id was processed once, including the refund announced again, which sent nothing.
    const ids = [firstAttempt, secondAttempt, refundedOnce, sameRefundAgain, duplicatePayment].map((e) => e.eventId);
    const processed = await harness.sql<{ event_id: string }[]>`
      select event_id from notification.processed_events
      where consumer_group = ${harness.config.KAFKA_GROUP_ID} and event_id = any(${ids})`;
    expect(processed.map((row) => row.event_id).sort()).toEqual([...ids].sort());
  });

  it('ListNotifications names the new kinds', async () => {
    const userId = `user-${randomUUID()}`;
    const order = newOrder({ userId });
    await harness.publishMany([
      orderEvent(order, 'PAYMENT_FAILED'),
      orderEvent(order, 'REFUNDED', { refund: refundOf() }),
      orderEvent(order, 'LATE_PAYMENT_REFUNDED', { refund: refundOf() }),
    ]);
    const { notifications } = await eventually(async () => {
      const page = await harness.list({ userId }, userId);
      return (
        page.notifications.length === 3 &&
        page.notifications.every((n) => n.status === DeliveryStatus.DELIVERY_STATUS_SENT) &&
        page
      );
    });
    expect(notifications.map((n) => n.kind).sort()).toEqual([
      NotificationKind.NOTIFICATION_KIND_ORDER_PAYMENT_FAILED,
      NotificationKind.NOTIFICATION_KIND_ORDER_REFUNDED,
      NotificationKind.NOTIFICATION_KIND_LATE_PAYMENT_REFUNDED,
    ]);
  });

  it('dead-letters a refund event that names no refund, and goes on', async () => {
    const order = newOrder();
    const nameless = orderEvent(order, 'REFUNDED');
    await harness.publish(nameless);
    const after = orderEvent(order, 'LATE_PAYMENT_REFUNDED', { refund: refundOf() });
    await harness.publish(after);
    await eventually(() => mailsFor(order.id).length === 1, 30_000, 'the email after the unusable event');
    expect(mailsFor(order.id)[0]!.kind).toBe('LATE_PAYMENT_REFUNDED');

    const [parked] = await readMessages(harness.kafka, harness.config.ORDER_EVENTS_DLQ_TOPIC, 1);
    expect(parked?.headers['event-id']).toBe(nameless.eventId);
    expect(parked?.headers[DeadLetterHeader.reason]).toBe('refund event without a refund');
    expect((await notificationRows(harness.sql, order.id)).map((row) => row.source_event_id)).toEqual([after.eventId]);
  });
});
