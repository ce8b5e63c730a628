/**
 * A pause that another part of the process can cut short: a loop waits on `pause(ms)` for its next round, and
 * `wake()` (new rows committed, a delivery finished) starts that round at once. A wake while the loop is busy is kept,
 * so the next pause returns at once and no work waits a whole interval.
 *
 * Why not an AbortController passed to timers/promises' sleep: each abort builds a DOMException and each cut sleep an
 * AbortError, both with a stack trace, and the loops are woken once per order or email (a few % of notification's
 * CPU at 200 emails/s).
 */
export interface Alarm {
  pause(ms: number): Promise<void>;
  wake(): void;
}

export function createAlarm(): Alarm {
  let pending = false;
  let ring: (() => void) | undefined;
  return {
    pause(ms) {
      if (pending) {
        pending = false;
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const timer = setTimeout(done, ms);
        function done(): void {
          clearTimeout(timer);
          ring = undefined;
          resolve();
        }
        ring = done;
      });
    },
    wake() {
      if (ring) ring();
      else pending = true;
    },
  };
}
