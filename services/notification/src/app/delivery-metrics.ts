import { Counter, type Registry } from 'prom-client';

/** What the delivery loop tells Prometheus about each attempt. */
export interface DeliveryMetrics {
  attempted(outcome: 'sent' | 'retrying' | 'failed', channel: string): void;
}

/**
 * `notification_deliveries_total{channel, outcome}`: attempts that sent the message, that failed and will be tried
 * again (`retrying`), or that failed for good (`failed`, after NOTIFY_MAX_ATTEMPTS or a permanent refusal).
 */
export function createDeliveryMetrics(registry: Registry): DeliveryMetrics {
  const deliveries = new Counter({
    name: 'notification_deliveries_total',
    help: 'Delivery attempts of notifications, by channel and outcome (sent, retrying, failed)',
    labelNames: ['channel', 'outcome'] as const,
    registers: [registry],
  });
  return { attempted: (outcome, channel) => deliveries.inc({ channel, outcome }) };
}
