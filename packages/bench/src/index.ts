export { openBenchChannel } from './channel.ts';
export { clockTicksPerSecond, cpuTimeOf } from './cpu.ts';
export { formatFailures, formatPercentiles, formatResult, resultRows } from './format.ts';
export { runLoad } from './load.ts';
export { type NoopServer, type NoopServerOptions, startNoopServer } from './noop-server.ts';
export type {
  CallFunction,
  ClosedLoopOptions,
  Json,
  LoadOptions,
  LoadResult,
  OpenLoopOptions,
  Percentiles,
} from './types.ts';
