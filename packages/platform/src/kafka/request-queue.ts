// An import rather than createRequire: a bundle (ticket-bundle) then patches the kafkajs it bundles, not a second copy
// that require() would load from node_modules beside it.
import RequestQueueClass from 'kafkajs/src/network/requestQueue/index.js';

interface RequestQueue {
  pending: unknown[];
  throttledUntil: number;
  scheduleCheckPendingRequests(): void;
}

/**
 * kafkajs 2.2.4 keeps each broker connection's request queue checking itself on a 1 ms timer while nothing is
 * pending and nothing throttled (tulios/kafkajs#1556, #1704; the fixes are unmerged): with a producer, a consumer
 * and an admin connected, an idle service woke up ~3,000 times a second, spent 3% of a core and allocated 1.5 MB/s
 * of timers, which is most of its garbage on a quiet system. A later check is only needed for a pending request
 * (the queue was full) or a throttle ending in the future; a new request and every answered one check the queue
 * themselves. Kept to those two cases, the rest of kafkajs's scheduling is untouched.
 */
export function stopIdleRequestQueuePolling(): void {
  const prototype = RequestQueueClass.prototype as RequestQueue;
  const schedule = prototype.scheduleCheckPendingRequests;
  if ((schedule as { idleFixed?: true }).idleFixed) return;
  const scheduleWhenNeeded = function (this: RequestQueue) {
    if (this.pending.length === 0 && this.throttledUntil <= Date.now()) return;
    schedule.call(this);
  };
  prototype.scheduleCheckPendingRequests = Object.assign(scheduleWhenNeeded, { idleFixed: true as const });
}
