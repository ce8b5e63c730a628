import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAlarm } from '../src/alarm.ts';

/** Whether the promise has settled once the microtasks queued so far have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  await Promise.resolve();
  await Promise.resolve();
  return done;
}

describe('an alarm', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ends a pause when its time is up, or at once when woken', async () => {
    vi.useFakeTimers();
    const alarm = createAlarm();
    const timed = alarm.pause(1_000);
    vi.advanceTimersByTime(999);
    expect(await settled(timed)).toBe(false);
    vi.advanceTimersByTime(1);
    expect(await settled(timed)).toBe(true);

    const woken = alarm.pause(60_000);
    expect(await settled(woken)).toBe(false);
    alarm.wake();
    expect(await settled(woken)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps a wake that came while nobody paused for the next pause only', async () => {
    vi.useFakeTimers();
    const alarm = createAlarm();
    alarm.wake();
    alarm.wake();
    expect(await settled(alarm.pause(60_000))).toBe(true);
    const next = alarm.pause(60_000);
    expect(await settled(next)).toBe(false);
    vi.advanceTimersByTime(60_000);
    expect(await settled(next)).toBe(true);
  });
});
