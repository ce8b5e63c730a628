/** The bench's knobs, read once from the environment so that a typo fails before anything is created. */
export interface SteadyConfig {
  /** Orders started per second (open loop: on schedule, whatever the system answers). */
  rate: number;
  /** Length of the load window. */
  seconds: number;
  /** How often each service's RSS and CPU time are read. */
  sampleSeconds: number;
}

export class SteadyConfigError extends Error {
  override name = 'SteadyConfigError';
}

/**
 * Plain parsing rather than a zod schema: BENCH_RATE may be fractional (0.5 orders/s), which the platform's
 * `env.positiveInt` does not allow, and this package does not depend on zod itself.
 */
export function loadSteadyConfig(source: Record<string, string | undefined> = process.env): SteadyConfig {
  const problems: string[] = [];
  const rate = positiveNumber(source, 'BENCH_RATE', 3, problems);
  const seconds = positiveNumber(source, 'BENCH_SECONDS', 300, problems);
  const sampleSeconds = positiveNumber(source, 'BENCH_SAMPLE_SECONDS', 10, problems);
  if (problems.length === 0 && Math.floor(rate * seconds) < 1) {
    problems.push(`BENCH_RATE × BENCH_SECONDS must give at least one order (got ${rate} × ${seconds})`);
  }
  if (problems.length > 0) {
    throw new SteadyConfigError(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  return { rate, seconds, sampleSeconds };
}

function positiveNumber(
  source: Record<string, string | undefined>,
  name: string,
  fallback: number,
  problems: string[],
): number {
  const raw = source[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    problems.push(`${name}: must be a positive number (got "${raw}")`);
    return fallback;
  }
  return value;
}
