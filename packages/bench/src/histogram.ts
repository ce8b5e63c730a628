import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';
import type { Percentiles } from './types.ts';

/** Latencies in µs, 3 significant digits (≤ 0.1% error), up to an hour; grows if ever needed. */
export const newHistogram = (): Histogram =>
  build({ numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000 });

/** Records a duration given in ms (fractional) as whole µs, at least 1. */
export function recordMs(histogram: Histogram, ms: number): void {
  histogram.recordValue(Math.max(1, Math.round(ms * 1_000)));
}

export const encode = (histogram: Histogram): string => encodeIntoCompressedBase64(histogram);

/** One histogram with the counts of all the encoded ones. */
export function mergeEncoded(encoded: readonly string[]): Histogram {
  const merged = newHistogram();
  for (const one of encoded) {
    const decoded = decodeFromCompressedBase64(one);
    merged.add(decoded);
    decoded.destroy();
  }
  return merged;
}

/** The summary figures in ms; NaN for an empty histogram. */
export function percentilesOf(histogram: Histogram): Percentiles {
  const count = histogram.totalCount;
  const at = (percentile: number) => (count === 0 ? Number.NaN : histogram.getValueAtPercentile(percentile) / 1_000);
  return {
    count,
    mean: count === 0 ? Number.NaN : histogram.mean / 1_000,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    max: count === 0 ? Number.NaN : histogram.maxValue / 1_000,
  };
}
