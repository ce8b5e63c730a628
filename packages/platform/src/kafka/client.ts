import {
  type ITopicConfig,
  Kafka,
  type LogEntry,
  logLevel,
  Partitioners,
  type Producer,
  type RetryOptions,
} from 'kafkajs';
import type { Logger } from '../logger.ts';
import { stopIdleRequestQueuePolling } from './request-queue.ts';

export type { Kafka, Producer };

export interface KafkaOptions {
  clientId: string;
  brokers: string[];
  logger: Logger;
  /** kafkajs retry policy for every request; the default rides out a broker restart of a few seconds. */
  retry?: RetryOptions;
}

export function createKafka({ clientId, brokers, logger, retry }: KafkaOptions): Kafka {
  stopIdleRequestQueuePolling();
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => logKafkaEntry(logger, entry),
    retry: retry ?? { initialRetryTime: 200, maxRetryTime: 5_000, retries: 8 },
  });
}

function logKafkaEntry(logger: Logger, { level, namespace, log }: LogEntry): void {
  const { message, ...details } = log;
  const line = { kafka: namespace, ...details };
  if (level === logLevel.ERROR) logger.error(line, message);
  else if (level === logLevel.WARN) logger.warn(line, message);
  else logger.debug(line, message);
}

/**
 * An idempotent producer with one request in flight, so the broker neither duplicates a retried
 * batch nor reorders messages of a partition. The Java-compatible partitioner keeps keys on the same
 * partitions as any other client would.
 */
export function createProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}

export interface TopicSpec {
  topic: string;
  partitions?: number;
  /** 1 on a single-broker cluster; 3 in production. */
  replicationFactor?: number;
  configEntries?: ITopicConfig['configEntries'];
}

/** Creates the topics that do not exist yet; existing ones are left as they are. */
export async function ensureTopics(kafka: Kafka, topics: readonly TopicSpec[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((spec) => !existing.has(spec.topic));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((spec) => ({
        topic: spec.topic,
        numPartitions: spec.partitions ?? 3,
        replicationFactor: spec.replicationFactor ?? 1,
        ...(spec.configEntries ? { configEntries: spec.configEntries } : {}),
      })),
    });
  } finally {
    await admin.disconnect();
  }
}
