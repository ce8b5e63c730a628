import type { TestProject } from 'vitest/node';
import { startKafkaBroker } from './broker.ts';

/**
 * Gives the test run a real Kafka: `KAFKA_BROKERS` when set, else a single-node Apache Kafka that
 * this setup starts from the jars on Maven Central (scripts/kafka.sh) on free ports and in a
 * throw-away data directory, and stops when the run ends.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const configured = process.env.KAFKA_BROKERS;
  if (configured) {
    project.provide('kafkaBrokers', configured.split(','));
    return async () => {};
  }
  const broker = await startKafkaBroker();
  project.provide('kafkaBrokers', broker.brokers);
  return () => broker.destroy();
}
