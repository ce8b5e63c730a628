import { describe, expect, it } from 'vitest';
import { afterFailure, recipientOf, retryDelayMs } from './notification.ts';
import { decodeCursor, encodeCursor } from './page-token.ts';

const policy = { baseMs: 1_000, maxMs: 60_000, maxAttempts: 6 };

describe('retries', () => {
  it('doubles from the base delay and caps it', () => {
    expect([1, 2, 3, 4, 5].map((attempts) => retryDelayMs(attempts, policy))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000,
    ]);
    expect(retryDelayMs(10, policy)).toBe(60_000);
    expect(retryDelayMs(10_000, policy)).toBe(60_000);
  });

  it('retries temporary failures until the attempts are used up', () => {
    const temporary = { permanent: false, message: '451 try later' };
    expect(afterFailure(1, temporary, policy)).toEqual({ status: 'PENDING', retryInMs: 1_000, error: '451 try later' });
    expect(afterFailure(5, temporary, policy)).toMatchObject({ status: 'PENDING', retryInMs: 16_000 });
    expect(afterFailure(6, temporary, policy)).toEqual({ status: 'FAILED', error: '451 try later' });
  });

  it('gives up at once on a permanent failure, and keeps errors short', () => {
    expect(afterFailure(1, { permanent: true, message: '550 no such user' }, policy)).toEqual({
      status: 'FAILED',
      error: '550 no such user',
    });
    expect(afterFailure(1, { permanent: true, message: 'x'.repeat(5_000) }, policy).error).toHaveLength(1_000);
  });
});

describe('recipient', () => {
  it('takes a plausible address and refuses none or garbage', () => {
    expect(recipientOf(' buyer@example.com ')).toEqual({ kind: 'email', address: 'buyer@example.com' });
    expect(recipientOf('')).toMatchObject({ kind: 'none', reason: 'the order has no email address' });
    expect(recipientOf('not an address')).toMatchObject({ kind: 'none' });
    expect(recipientOf('a@b')).toMatchObject({ kind: 'none' });
    expect(recipientOf('x@example.com\r\nBcc: victim@example.com')).toMatchObject({ kind: 'none' });
  });
});

describe('page tokens', () => {
  it('round-trip, and anything else is refused', () => {
    const cursor = {
      userId: 'user-1',
      createdAt: '2026-11-23T11:07:00.123456Z',
      id: '0b1f3a52-7e55-4f43-9d3c-1f0b4e0f5e11',
    };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
    expect(decodeCursor('not a token')).toBeUndefined();
    expect(decodeCursor(Buffer.from('{"k":"events"}').toString('base64url'))).toBeUndefined();
    expect(decodeCursor(encodeCursor({ ...cursor, createdAt: '2026-11-23' }))).toBeUndefined();
    expect(decodeCursor(encodeCursor({ ...cursor, createdAt: '2026-13-45T99:99:99.000000Z' }))).toBeUndefined();
    expect(decodeCursor(encodeCursor({ ...cursor, createdAt: '2026-02-30T10:00:00.000000Z' }))).toBeUndefined();
  });
});
