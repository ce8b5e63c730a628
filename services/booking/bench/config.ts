import { env, loadConfig } from '@ticket/platform';
import { z } from 'zod';

/** The bench's knobs, read once from the environment (a typo fails before anything starts). */
export const benchConfigShape = {
  /** Length of each measured phase: the gRPC run and the pgbench run get the same. */
  BENCH_SECONDS: env.positiveInt(10),
  /** Concurrent callers of CreateBooking, and pgbench clients. */
  BENCH_CONCURRENCY: env.positiveInt(64),
  /** Load before the measured gRPC window, not counted: JIT warm-up, pool connections, first batches. */
  BENCH_WARMUP_SECONDS: z.coerce.number().min(0).default(1),
  /** Load generator worker processes (@ticket/bench); the callers are spread over them. */
  BENCH_WORKERS: env.positiveInt(2),
  /** gRPC channels (HTTP/2 connections) per worker, which its callers share round robin. */
  BENCH_CHANNELS: env.positiveInt(1),
  /** Seats of each stock: enough that neither run sells out. */
  BENCH_SEATS: env.positiveInt(10_000_000),
  /** pgbench worker threads (-j). */
  BENCH_PGBENCH_THREADS: env.positiveInt(2),
  PGBENCH: z.string().min(1).default('/usr/bin/pgbench'),
  /** What group commit must reach: gRPC holds/s over pgbench's per-request transactions/s. */
  BENCH_TARGET_RATIO: z.coerce.number().positive().default(3),
  /** The booking child's own LOG_LEVEL; its output goes to a file either way. */
  BENCH_BOOKING_LOG_LEVEL: env.logLevel().default('warn'),
};

export type BenchConfig = ReturnType<typeof loadBenchConfig>;

export const loadBenchConfig = (source: Record<string, string | undefined> = process.env) =>
  loadConfig(benchConfigShape, source);
