import type { Logger } from '../logger.ts';
import { createKafka } from './client.ts';

export interface BrokerCheckOptions {
  /** The service's name; the check's client id is `<clientId>-health`. */
  clientId: string;
  brokers: string[];
  logger: Logger;
}

/**
 * Health's view of the Kafka cluster (see createHealthMonitor): a metadata request on a client of its own without
 * retries, so one failed request means "unreachable now", not a 30-second wait inside kafkajs. Only for a service
 * that cannot serve without Kafka; one with an outbox keeps serving while the broker is away.
 */
export function brokerCheck(options: BrokerCheckOptions): {
  name: string;
  reachable(): Promise<boolean>;
  close(): Promise<void>;
} {
  const kafka = createKafka({
    clientId: `${options.clientId}-health`,
    brokers: options.brokers,
    // Its failures are what the health log line reports; kafkajs' own errors for them would only repeat it.
    logger: options.logger.child({ component: 'health' }, { level: 'fatal' }),
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  let connected = false;
  return {
    name: 'broker',
    async reachable() {
      try {
        if (!connected) {
          await admin.connect();
          connected = true;
        }
        await admin.describeCluster();
        return true;
      } catch {
        // Reconnect from scratch next time: a broker that came back may be a new process.
        connected = false;
        await admin.disconnect().catch(() => {});
        return false;
      }
    },
    close: () => admin.disconnect().catch(() => {}),
  };
}
