import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.ts';
import { ensureTopics, type Kafka, type TopicSpec } from './client.ts';
import type { IdempotentConsumer } from './consumer.ts';

const MAX_BACKOFF_MS = 10_000;
/** How long stop() waits for a start still stuck on an unreachable broker before it stops the consumer anyway. */
const STOP_GRACE_MS = 5_000;

export interface BackgroundConsumerOptions {
  kafka: Kafka;
  consumer: IdempotentConsumer;
  /** Created when missing before the consumer joins its group. */
  topics: readonly TopicSpec[];
  logger: Logger;
  /** For the logs: "order events consumer". */
  name: string;
}

/**
 * Starts a consumer without holding up the service: creates its topics and joins its group, and while Kafka is
 * unreachable tries again with backoff. So a service starts, and serves what does not need Kafka, before its
 * broker does.
 */
export function startConsumerInBackground({ kafka, consumer, topics, logger, name }: BackgroundConsumerOptions): {
  stop(): Promise<void>;
} {
  const stopping = new AbortController();
  const starting = (async () => {
    for (let attempt = 1; !stopping.signal.aborted; attempt += 1) {
      try {
        await ensureTopics(kafka, topics);
        await consumer.start();
        logger.info({ consumer: name }, 'consumer started');
        return;
      } catch (error) {
        const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(attempt, 5));
        logger.warn({ err: error, consumer: name, attempt, retryInMs: delay }, 'consumer could not start; retrying');
        await consumer.stop().catch(() => {});
        await sleep(delay, undefined, { signal: stopping.signal }).catch(() => {});
      }
    }
  })();
  return {
    async stop() {
      stopping.abort();
      const grace = new AbortController();
      await Promise.race([starting, sleep(STOP_GRACE_MS, undefined, { signal: grace.signal }).catch(() => {})]);
      grace.abort();
      await consumer.stop();
    },
  };
}
