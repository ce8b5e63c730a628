import type { SteadyConfig } from './config.ts';
import { type LoadResult, STEPS } from './load.ts';
import type { Sample } from './sampler.ts';

/** Above this p99 start lag the generator, not the system, set the pace, and the figures say little. */
export const MAX_TRUSTED_START_LAG_MS = 50;

export interface SteadyFigures {
  config: SteadyConfig;
  services: readonly string[];
  load: LoadResult;
  samples: readonly Sample[];
  /** The samples just before the first buyer and just after the last one finished. */
  before: Sample;
  after: Sample;
  /** Each service's CPU share of one core before the load, with no orders: its background work. */
  idleCpuShare: Record<string, number>;
  /** The bench process's own CPU over the load (user + system), ms. */
  generatorCpuMs: number;
  clockTicks: string;
}

/** Why the run failed (buyers failed, a service went away); empty when it did not. */
export function problemsOf(figures: SteadyFigures): string[] {
  const problems: string[] = [];
  const failed = figures.load.attempted - figures.load.succeeded;
  if (failed > 0) problems.push(`${failed} of ${figures.load.attempted} buyers failed`);
  if (figures.load.attempted < Math.floor(figures.config.rate * figures.config.seconds)) {
    problems.push('interrupted before every buyer started');
  }
  for (const name of figures.services) {
    if (figures.samples.some((sample) => sample.services[name] === undefined)) {
      problems.push(`${name} was gone at some sample (did it exit?)`);
    }
  }
  return problems;
}

export function formatSummary(figures: SteadyFigures): string {
  const { config, load } = figures;
  const loadSeconds = (figures.after.at - figures.before.at) / 1_000;
  const lags = [...load.startLagMs].sort((a, b) => a - b);
  const lagP99 = percentile(lags, 0.99);
  const generatorBehind = lagP99 > MAX_TRUSTED_START_LAG_MS;
  const problems = problemsOf(figures);
  const title = `steady load: ${config.rate} orders/s for ${config.seconds} s, open loop, each order AddToCart → PlaceOrder → MarkOrderAsPaid`;
  const lines = [
    ...section([
      ['orders', `${load.attempted} attempted, ${load.succeeded} paid, ${load.attempted - load.succeeded} failed`],
      ['achieved rate', `${startedRate(load).toFixed(2)} orders/s started (target ${config.rate})`],
      ['load window', `${loadSeconds.toFixed(1)} s, first sample to last (includes the drain of the last orders)`],
    ]),
    '',
    ...latencyTable(load),
    '',
    ...serviceTable(figures, loadSeconds),
    '',
    ...rssSeries(figures),
    '',
    ...section([
      [
        'generator',
        `${percent(figures.generatorCpuMs / (loadSeconds * 1_000))} of one core; start lag p99 ${ms(lagP99)}, max ${ms(percentile(lags, 1))}`,
      ],
      ['clock ticks', figures.clockTicks],
      [
        'verdict',
        generatorBehind
          ? `generator FELL BEHIND (p99 start lag > ${MAX_TRUSTED_START_LAG_MS} ms): the latencies and rate are not trustworthy`
          : `generator kept to its schedule (p99 start lag <= ${MAX_TRUSTED_START_LAG_MS} ms)`,
      ],
      ['result', problems.length === 0 ? 'OK' : `FAILED: ${problems.join('; ')}`],
    ]),
    ...failureLines(load),
  ];
  const rule = '='.repeat(Math.max(title.length + 4, 100));
  return ['', rule, `  ${title}`, rule, ...lines, rule, ''].join('\n');
}

/** Buyers started per second: N buyers span N − 1 intervals, so a perfect schedule gives exactly the target. */
function startedRate(load: LoadResult): number {
  if (load.attempted < 2) return load.attempted;
  return (load.attempted - 1) / (load.startSpanMs / 1_000);
}

function latencyTable(load: LoadResult): string[] {
  const rows: string[][] = [['latency, ms', 'p50', 'p90', 'p99', 'max', 'n']];
  const row = (label: string, values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    rows.push([
      label,
      ...[0.5, 0.9, 0.99, 1].map((fraction) => fixed(percentile(sorted, fraction))),
      String(sorted.length),
    ]);
  };
  for (const step of STEPS) {
    row(`${step} from due`, load.steps[step].fromDueMs);
    row(`${step} service`, load.steps[step].serviceMs);
  }
  row('order (due → paid)', load.orderMs);
  return table(rows);
}

function serviceTable(figures: SteadyFigures, loadSeconds: number): string[] {
  const rows: string[][] = [
    ['service, MiB', 'RSS start', 'min', 'max', 'end', 'CPU ms/order', 'CPU share', 'idle CPU share'],
  ];
  for (const name of figures.services) {
    const rss = figures.samples.map((sample) => sample.services[name]?.rssKiB).filter((v) => v !== undefined);
    const before = figures.before.services[name];
    const after = figures.after.services[name];
    const cpuMs = before && after ? after.cpuMs - before.cpuMs : Number.NaN;
    rows.push([
      name,
      mib(before?.rssKiB),
      mib(Math.min(...rss)),
      mib(Math.max(...rss)),
      mib(after?.rssKiB),
      figures.load.succeeded > 0 ? fixed(cpuMs / figures.load.succeeded) : 'n/a',
      percent(cpuMs / (loadSeconds * 1_000)),
      percent(figures.idleCpuShare[name] ?? Number.NaN),
    ]);
  }
  return table(rows);
}

function rssSeries(figures: SteadyFigures): string[] {
  const rows: string[][] = [['RSS series, s', ...figures.services]];
  for (const sample of figures.samples) {
    rows.push([
      ((sample.at - figures.before.at) / 1_000).toFixed(1),
      ...figures.services.map((name) => mib(sample.services[name]?.rssKiB)),
    ]);
  }
  return table(rows);
}

function failureLines(load: LoadResult): string[] {
  if (load.failures.size === 0) return [];
  return [
    '',
    '  failures by gRPC status (first message of each):',
    ...[...load.failures].map(([code, { count, first }]) => `    ${code} × ${count}: ${first}`),
  ];
}

/** Aligned `label  value` rows. */
function section(rows: [string, string][]): string[] {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`);
}

/** A left-aligned first column and right-aligned figures. */
function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map(
    (row) =>
      `  ${row.map((cell, column) => (column === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ')}`,
  );
}

/** Nearest-rank percentile of ascending values; NaN when there are none. */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(fraction * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

const fixed = (value: number): string => (Number.isFinite(value) ? value.toFixed(1) : 'n/a');
const ms = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(1)} ms` : 'n/a');
const percent = (share: number): string => (Number.isFinite(share) ? `${(share * 100).toFixed(1)}%` : 'n/a');
const mib = (kib: number | undefined): string =>
  kib === undefined || !Number.isFinite(kib) ? 'gone' : (kib / 1024).toFixed(1);
