import type { LoadResult, Percentiles } from './types.ts';

const ms = (value: number): string => (Number.isNaN(value) ? 'n/a' : `${value.toFixed(2)} ms`);
const count = (value: number): string => Math.round(value).toLocaleString('en-US');
const percent = (share: number): string => `${(share * 100).toFixed(0)}%`;

export const formatPercentiles = (p: Percentiles): string =>
  `p50 ${ms(p.p50)}, p90 ${ms(p.p90)}, p99 ${ms(p.p99)}, p99.9 ${ms(p.p999)}, max ${ms(p.max)}`;

export function formatFailures(failed: Readonly<Record<string, number>>): string {
  const entries = Object.entries(failed);
  return entries.length === 0 ? '0' : entries.map(([name, n]) => `${n} ${name}`).join(', ');
}

/** The result as label/value rows, for a caller that aligns them with rows of its own. */
export function resultRows(result: LoadResult): [string, string][] {
  const load =
    result.mode === 'closed'
      ? `closed loop, ${result.callers} callers`
      : `open loop, ${count(result.rate ?? 0)} calls/s due`;
  const rows: [string, string][] = [
    [
      'load',
      `${load} in ${result.workers} worker processes, ${result.warmupSeconds} s warm-up + ${result.seconds} s measured`,
    ],
    ['calls/s', `${count(result.throughput)} ok (per second: ${result.perSecond.map(count).join(' ')})`],
    ['calls', `${count(result.calls)} = ${count(result.ok)} ok + failed: ${formatFailures(result.failed)}`],
    [result.mode === 'open' ? 'latency from due' : 'latency', formatPercentiles(result.latencyMs)],
  ];
  if (result.open) {
    rows.push(
      [
        'due / started / dropped',
        `${count(result.open.due)} / ${count(result.open.started)} / ${count(result.open.dropped)}`,
      ],
      ['start lag', formatPercentiles(result.open.startLagMs)],
    );
  }
  const generator = result.generator;
  rows.push([
    'generator CPU',
    generator.cpuSeconds
      .map(
        (seconds, index) =>
          `w${index} ${seconds.toFixed(1)} s = ${percent(generator.coreShare[index] ?? 0)} of a core (loop ${percent(generator.eventLoopUtilization[index] ?? 0)} busy)`,
      )
      .join('; '),
  ]);
  for (const [name, cpu] of Object.entries(result.observed)) {
    rows.push([`${name} CPU`, `${cpu.cpuSeconds.toFixed(2)} s = ${cpu.microsPerCall.toFixed(0)} µs per answered call`]);
  }
  rows.push(['generator', result.saturated ? `SATURATED: ${result.saturationReasons.join('; ')}` : 'not saturated']);
  return rows;
}

/** A plain-text block: the title, then one aligned row per figure. */
export function formatResult(result: LoadResult, title = 'load'): string {
  const rows = resultRows(result);
  const width = Math.max(...rows.map(([label]) => label.length));
  return [title, ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`), ''].join('\n');
}
