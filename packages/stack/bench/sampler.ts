import { performance } from 'node:perf_hooks';
import { type ProcessReading, readProcess } from './proc.ts';

export interface SampledService {
  name: string;
  pid: number;
}

export interface Sample {
  /** performance.now() when it was read. */
  at: number;
  /** By service name; undefined when the process was gone. */
  services: Record<string, ProcessReading | undefined>;
}

/**
 * Reads every service's RSS and CPU time now, then every `intervalMs` until `stop()`, which takes a last
 * reading. Readings go on one timer, not one per service, so that a line of the series is one moment.
 */
export async function startSampler(services: readonly SampledService[], ticksPerSecond: number, intervalMs: number) {
  const samples: Sample[] = [];
  const take = async () => {
    const readings = await Promise.all(services.map((service) => readProcess(service.pid, ticksPerSecond)));
    const sample = {
      at: performance.now(),
      services: Object.fromEntries(services.map((service, index) => [service.name, readings[index]])),
    };
    samples.push(sample);
    return sample;
  };
  let pending: Promise<unknown> = take();
  await pending;
  const timer = setInterval(() => {
    pending = take();
  }, intervalMs);
  return {
    samples,
    /** The first sample, taken before the load. */
    baseline: samples[0] as Sample,
    /** Stops the interval and takes the closing sample. */
    async stop(): Promise<Sample> {
      clearInterval(timer);
      await pending;
      return take();
    },
  };
}

/**
 * Each service's CPU share (of one core) over `ms` with no load from the bench: health checks, pollers, consumers.
 * At a few orders per second this background is a real part of "CPU per order", so the summary shows it beside.
 */
export async function idleCpuShares(
  services: readonly SampledService[],
  ticksPerSecond: number,
  ms: number,
): Promise<Record<string, number>> {
  const read = () => Promise.all(services.map((service) => readProcess(service.pid, ticksPerSecond)));
  const before = await read();
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = await read();
  const elapsed = performance.now() - started;
  return Object.fromEntries(
    services.map((service, index) => {
      const [from, to] = [before[index], after[index]];
      return [service.name, from && to ? (to.cpuMs - from.cpuMs) / elapsed : Number.NaN];
    }),
  );
}
