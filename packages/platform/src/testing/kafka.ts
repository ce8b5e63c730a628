import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string[];
  }
}

/** Brokers of the test Kafka: the global setup's own broker, or `KAFKA_BROKERS`. */
export const testKafkaBrokers = (): string[] => inject('kafkaBrokers');

/** A topic name no other test or run uses, so each test reads only what it wrote. */
export const uniqueTopic = (name: string): string => `test.${name}.${randomBytes(5).toString('hex')}`;

export interface ReadMessage {
  key: string | undefined;
  value: Buffer | null;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

/**
 * Reads `count` messages of a topic from the beginning, in a throw-away consumer group, so a test
 * checks what really reached the broker. Rejects when they do not all arrive in time.
 */
export async function readMessages(
  kafka: Kafka,
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<ReadMessage[]> {
  const consumer = kafka.consumer({
    groupId: `reader-${randomBytes(6).toString('hex')}`,
    allowAutoTopicCreation: false,
  });
  const received: ReadMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${received.length} of ${count} messages from ${topic} in ${timeoutMs} ms`)),
        timeoutMs,
      );
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          received.push({
            key: message.key?.toString(),
            value: message.value,
            headers: Object.fromEntries(
              Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]),
            ),
            partition,
            offset: message.offset,
          });
          if (received.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return received;
}
