import { randomBytes } from 'node:crypto';
import { Channel, DeliveryStatus, NotificationKind } from '@ticket/contracts/v1/notification/notification_service';
import { Role, signUserToken } from '@ticket/platform';
import { bearer } from '@ticket/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  type NotificationHarness,
  newOrder,
  notificationRows,
  orderEvent,
  outcomeOf,
  startNotificationHarness,
} from './harness.ts';

let harness: NotificationHarness;
const USER = 'user-list-1';
const OTHER = 'user-list-2';

beforeAll(async () => {
  // The log channel: what ListNotifications shows does not depend on SMTP.
  harness = await startNotificationHarness({ smtp: false });
  expect(harness.config.NOTIFICATION_CHANNEL).toBe('log');
  const mine = Array.from({ length: 6 }, () => newOrder({ userId: USER }));
  const theirs = newOrder({ userId: OTHER });
  const noEmail = newOrder({ userId: USER, email: '' });
  await harness.publishMany([
    ...mine.flatMap((order) => [orderEvent(order, 'CREATED'), orderEvent(order, 'PAID')]),
    orderEvent(theirs, 'CREATED'),
    orderEvent(noEmail, 'CREATED'),
  ]);
  await eventually(async () => {
    const rows = await notificationRows(harness.sql);
    return rows.length === 14 && rows.every((row) => row.status !== 'PENDING');
  });
});
afterAll(() => harness?.close());

describe('ListNotifications', () => {
  it('pages through a user’s notifications newest first, each exactly once', async () => {
    const expected = await harness.sql<{ id: string }[]>`
      select id from notification.notifications where user_id = ${USER} order by created_at desc, id desc`;
    expect(expected).toHaveLength(13);
    const seen: string[] = [];
    let pageToken = '';
    let pages = 0;
    do {
      const page = await harness.list({ userId: USER, pageSize: 5, pageToken }, USER);
      expect(page.notifications.length).toBeLessThanOrEqual(5);
      seen.push(...page.notifications.map((notification) => notification.id));
      pageToken = page.nextPageToken;
      pages += 1;
    } while (pageToken !== '');
    expect(pages).toBe(3);
    expect(seen).toEqual(expected.map((row) => row.id));
  });

  it('says what was sent, when, how, and what was skipped', async () => {
    const { notifications } = await harness.list({ userId: USER, pageSize: 100 }, USER);
    const sent = notifications.filter((n) => n.status === DeliveryStatus.DELIVERY_STATUS_SENT);
    expect(sent).toHaveLength(12);
    for (const notification of sent) {
      expect(notification).toMatchObject({ userId: USER, channel: Channel.CHANNEL_LOG, attempts: 1, error: '' });
      expect(notification.recipient).toMatch(/@example\.com$/);
      expect(notification.sentAt!.getTime()).toBeGreaterThanOrEqual(notification.createdAt!.getTime());
      expect(notification.sourceEventId).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(sent.filter((n) => n.kind === NotificationKind.NOTIFICATION_KIND_ORDER_PAID)).toHaveLength(6);
    expect(sent.find((n) => n.kind === NotificationKind.NOTIFICATION_KIND_ORDER_PAID)?.subject).toMatch(
      /^Your tickets for order #/,
    );
    const skipped = notifications.filter((n) => n.status === DeliveryStatus.DELIVERY_STATUS_SKIPPED);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({ recipient: '', error: 'the order has no email address', attempts: 0 });
    expect(skipped[0]!.sentAt).toBeUndefined();
  });

  it('uses the default page size when none is given and lowers a too large one', async () => {
    const all = await harness.list({ userId: USER, pageSize: 0 }, USER);
    expect(all.notifications).toHaveLength(13); // default 20
    expect(all.nextPageToken).toBe('');
    const capped = await harness.list({ userId: USER, pageSize: 1_000_000 }, USER);
    expect(capped.notifications).toHaveLength(13);
    const other = await harness.list({ userId: OTHER }, OTHER);
    expect(other.notifications.map((n) => n.userId)).toEqual([OTHER]);
    expect((await harness.list({ userId: 'nobody' }, 'nobody')).notifications).toEqual([]);
  });

  it('lets only the user themselves list: UNAUTHENTICATED without a token, PERMISSION_DENIED for another user', async () => {
    expect(await outcomeOf(harness.list({ userId: USER }))).toMatch(/^UNAUTHENTICATED: missing authorization/);
    for (const roles of [[], [Role.organizer], [Role.scanner]]) {
      expect(await outcomeOf(harness.list({ userId: USER }, OTHER, roles))).toBe(
        'PERMISSION_DENIED: user_id does not match the authenticated caller',
      );
    }
    const foreign = await signUserToken(randomBytes(32).toString('base64url'), USER, 60);
    expect(await outcomeOf(harness.listWith({ userId: USER }, bearer(foreign)))).toBe('UNAUTHENTICATED: invalid token');
  });

  it('lets an admin list anyone’s notifications, page by page', async () => {
    const mine = await harness.list({ userId: USER, pageSize: 100 }, USER);
    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await harness.list({ userId: USER, pageSize: 5, pageToken }, 'support', [Role.admin]);
      seen.push(...page.notifications.map((notification) => notification.id));
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    expect(seen).toEqual(mine.notifications.map((notification) => notification.id));
    const theirs = await harness.list({ userId: OTHER }, 'support', [Role.admin]);
    expect(theirs.notifications.map((n) => n.userId)).toEqual([OTHER]);
    // An admin's own notifications are theirs like anyone's: none here.
    expect((await harness.list({ userId: 'support' }, 'support', [Role.admin])).notifications).toEqual([]);
  });

  it('refuses bad input with INVALID_ARGUMENT naming the field', async () => {
    const { nextPageToken } = await harness.list({ userId: USER, pageSize: 2 }, USER);
    const cases: [Parameters<NotificationHarness['list']>[0], string, string][] = [
      [{ userId: '' }, USER, 'user_id'],
      [{ userId: '   ' }, USER, 'user_id'],
      [{ userId: USER, pageSize: -1 }, USER, 'page_size'],
      [{ userId: USER, pageToken: 'garbage!' }, USER, 'page_token'],
      [{ userId: USER, pageToken: Buffer.from('{"k":"events"}').toString('base64url') }, USER, 'page_token'],
      [{ userId: OTHER, pageToken: nextPageToken }, OTHER, 'page_token'], // another user's token
    ];
    for (const [request, caller, field] of cases) {
      const outcome = await outcomeOf(harness.list(request, caller));
      expect(outcome).toMatch(/^INVALID_ARGUMENT: /);
      expect(outcome).toContain(field);
    }
  });
});
