import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../src/webhooks.ts';

describe('webhook retry backoff', () => {
  const options = { backoffMs: 200, maxBackoffMs: 10_000 };

  it('doubles from the first backoff up to the cap, within half of it and all of it', () => {
    const lowest = [1, 2, 3, 4, 10].map((attempts) => retryDelayMs(attempts, options, () => 0));
    const highest = [1, 2, 3, 4, 10].map((attempts) => retryDelayMs(attempts, options, () => 1));
    expect(lowest).toEqual([100, 200, 400, 800, 5_000]);
    expect(highest).toEqual([200, 400, 800, 1_600, 10_000]);
  });
});
