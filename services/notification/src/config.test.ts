import { ConfigError } from '@ticket/platform';
import { describe, expect, it } from 'vitest';
import { loadNotificationConfig } from './config.ts';
import { retryDelayMs } from './domain/notification.ts';

const secret = { AUTH_JWT_SECRET: 'x'.repeat(32) };

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadNotificationConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('config', () => {
  it('retries a failing delivery for about a day by default, as mail servers do', () => {
    const config = loadNotificationConfig(secret);
    const policy = { baseMs: config.NOTIFY_RETRY_BASE_MS, maxMs: config.NOTIFY_RETRY_MAX_MS };
    let waitedMs = 0;
    for (let attempts = 1; attempts < config.NOTIFY_MAX_ATTEMPTS; attempts += 1)
      waitedMs += retryDelayMs(attempts, policy);
    expect(waitedMs / 3_600_000).toBeGreaterThan(20);
    expect(waitedMs / 3_600_000).toBeLessThan(30);
  });

  it('defaults to the log channel without SMTP_HOST and to email with it', () => {
    const local = loadNotificationConfig(secret);
    expect(local).toMatchObject({
      NOTIFICATION_CHANNEL: 'log',
      GRPC_PORT: 50630,
      ORDER_EVENTS_TOPIC: 'ticket.checkout.v1.order-events',
      KAFKA_GROUP_ID: 'notification',
      NOTIFY_RETRY_BASE_MS: 1_000,
      NOTIFY_MAX_ATTEMPTS: 150,
    });
    const smtp = loadNotificationConfig({
      ...secret,
      SMTP_HOST: 'mail.example.com',
      SMTP_SECURE: 'true',
      SMTP_PORT: '465',
    });
    expect(smtp).toMatchObject({ NOTIFICATION_CHANNEL: 'email', SMTP_SECURE: true, SMTP_PORT: 465 });
    expect(
      loadNotificationConfig({ ...secret, SMTP_HOST: 'mail', NOTIFICATION_CHANNEL: 'log' }).NOTIFICATION_CHANNEL,
    ).toBe('log');
  });

  it('names every bad variable at once', () => {
    expect(problemsOf({ ...secret, NOTIFICATION_CHANNEL: 'email', SMTP_USER: 'me' })).toEqual([
      'SMTP_HOST: required when NOTIFICATION_CHANNEL is email',
      'SMTP_USER, SMTP_PASSWORD: set both or neither',
    ]);
    expect(problemsOf({})).toEqual(['AUTH_JWT_SECRET or AUTH_JWKS_URL: set at least one, or no token can be verified']);
    expect(problemsOf({ AUTH_JWKS_URL: 'https://idp.example.com/certs' })).toEqual([]);
    expect(problemsOf({ AUTH_JWT_SECRET: 'short' })).toEqual(['AUTH_JWT_SECRET: must be at least 32 characters']);
    expect(problemsOf({ ...secret, NOTIFICATION_CHANNEL: 'sms' })[0]).toMatch(/^NOTIFICATION_CHANNEL: /);
    expect(problemsOf({ ...secret, SMTP_HOST: 'mail', SMTP_SECURE: 'true', SMTP_REQUIRE_TLS: 'true' })).toHaveLength(1);
    expect(
      problemsOf({ ...secret, SMTP_HOST: 'mail', SMTP_TIMEOUT_MS: '30000', NOTIFY_CLAIM_TTL_MS: '60000' }),
    ).toEqual(['NOTIFY_CLAIM_TTL_MS: must be at least 3 × SMTP_TIMEOUT_MS (connect, greeting, data)']);
  });
});
