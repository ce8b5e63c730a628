import { isNull, sql } from 'drizzle-orm';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Database } from '../db/client.ts';
import type { OutboxTable } from '../db/tables.ts';

export interface OutboxMetrics {
  /** The relay published `count` events. */
  published(count: number): void;
}

/**
 * The outbox as Prometheus sees it: events published (`outbox_published_events_total`) and, read from the table when
 * scraped, how many wait (`outbox_unpublished_events`) and how long the oldest of them has (`…_age_seconds`, 0 when
 * none): a backlog that grows or ages means Kafka or the relay is not keeping up. The query uses the partial index
 * on unpublished rows, so a scrape costs next to nothing while the relay keeps up.
 */
interface Backlog {
  count: number;
  ageSeconds: number;
}

export function createOutboxMetrics(
  registry: Registry,
  db: Database<Record<string, unknown>>,
  table: OutboxTable,
): OutboxMetrics {
  const publishedTotal = new Counter({
    name: 'outbox_published_events_total',
    help: 'Events the outbox relay published to Kafka',
    registers: [registry],
  });
  let backlog: Promise<Backlog> | undefined;
  // Both gauges are collected in one scrape: one query serves them.
  const readBacklog = () => {
    backlog ??= db
      .select({
        count: sql<number>`count(*)::int`,
        ageSeconds: sql<number>`coalesce(extract(epoch from now() - min(${table.createdAt})), 0)::float8`,
      })
      .from(table)
      .where(isNull(table.publishedAt))
      .then(([row]) => row ?? { count: 0, ageSeconds: 0 })
      .finally(() => {
        setImmediate(() => {
          backlog = undefined;
        });
      });
    return backlog;
  };
  const backlogGauge = (name: string, help: string, pick: (backlog: Backlog) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        // Postgres away: the gauge keeps its last value rather than failing the whole scrape.
        const read = await readBacklog().catch(() => undefined);
        if (read) this.set(pick(read));
      },
    });
  backlogGauge(
    'outbox_unpublished_events',
    'Events committed to the outbox and not yet published to Kafka',
    (read) => read.count,
  );
  backlogGauge(
    'outbox_oldest_unpublished_age_seconds',
    'Age of the oldest event not yet published to Kafka; 0 when none waits',
    (read) => read.ageSeconds,
  );
  return { published: (count) => publishedTotal.inc(count) };
}
