import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createProducer, ensureTopics } from '../src/kafka/client.ts';
import { createLogger } from '../src/logger.ts';
import { testKafkaBrokers, uniqueTopic } from '../src/testing/kafka.ts';

// kafkajs's request queue re-checks itself on a 1 ms timer while idle (tulios/kafkajs#1704); createKafka stops
// that. Counted on the queue's own method, over a second in which the producer sends nothing: unfixed it runs
// hundreds of times, fixed it does not run at all. A slow machine can only lower the unfixed count.

const queue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as {
  prototype: { checkPendingRequests(): void };
};

let checks = 0;
const check = queue.prototype.checkPendingRequests;
const logger = createLogger({ name: 'kafka-request-queue-test', level: 'silent' });
const topic = uniqueTopic('request-queue');
let producer: Producer;

beforeAll(async () => {
  queue.prototype.checkPendingRequests = function (this: unknown) {
    checks += 1;
    check.call(this);
  };
  const kafka = createKafka({ clientId: 'request-queue-test', brokers: testKafkaBrokers(), logger });
  await ensureTopics(kafka, [{ topic, partitions: 1 }]);
  producer = createProducer(kafka);
  await producer.connect();
  await producer.send({ topic, messages: [{ value: 'warm up' }] });
});

afterAll(async () => {
  await producer?.disconnect();
  queue.prototype.checkPendingRequests = check;
});

describe('kafkajs request queue', () => {
  it('does not poll itself while a connected producer is idle', async () => {
    const before = checks;
    await sleep(1_000);
    expect(checks - before).toBeLessThan(5);
  });

  it('still sends requests that had to wait for the one in flight', async () => {
    // One request in flight (the idempotent producer): the other sends wait in the queue's pending list.
    const sends = Array.from({ length: 20 }, (_, index) =>
      producer.send({ topic, messages: [{ value: `message ${index}` }] }),
    );
    const results = await Promise.all(sends);
    expect(results.flat().every((result) => result.errorCode === 0)).toBe(true);
  });
});
