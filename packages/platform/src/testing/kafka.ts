import { randomBytes } from 'node:crypto';
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
