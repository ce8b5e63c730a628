import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuTimeOf, formatResult, type LoadResult, type NoopServer, runLoad, startNoopServer } from '../src/index.ts';

const calls = new URL('./fixtures/calls.ts', import.meta.url).href;

let server: NoopServer;

beforeAll(async () => {
  server = await startNoopServer({
    definitionModule: import.meta.resolve('@ticket/contracts/v1/booking/booking_service'),
    definitionExport: 'BookingServiceDefinition',
  });
});

afterAll(async () => {
  await server?.stop();
});

/** What holds on any machine, however slow: counts add up and percentiles are ordered. */
function expectConsistent(result: LoadResult): void {
  expect(result.calls).toBe(result.ok + Object.values(result.failed).reduce((sum, n) => sum + n, 0));
  expect(result.latencyMs.count).toBe(result.ok);
  expect(result.perSecond).toHaveLength(Math.ceil(result.seconds));
  expect(result.acknowledged).toBeGreaterThanOrEqual(result.perSecond.reduce((sum, n) => sum + n, 0));
  expect(result.answered).toBeGreaterThanOrEqual(result.calls);
  if (result.ok > 0) {
    expect(result.latencyMs.p50).toBeLessThanOrEqual(result.latencyMs.p90);
    expect(result.latencyMs.p90).toBeLessThanOrEqual(result.latencyMs.p99);
    expect(result.latencyMs.p99).toBeLessThanOrEqual(result.latencyMs.p999);
    expect(result.latencyMs.p999).toBeLessThanOrEqual(result.latencyMs.max);
  }
  expect(result.generator.cpuSeconds).toHaveLength(result.workers);
  expect(result.saturated).toBe(result.saturationReasons.length > 0);
  expect(formatResult(result)).toContain('calls/s');
}

describe('runLoad against the no-op server', () => {
  it('closed loop: counts every call and reports the server CPU per call', async () => {
    const result = await runLoad({
      mode: 'closed',
      callers: 8,
      seconds: 1,
      workers: 2,
      callModule: calls,
      setup: { address: server.address },
      observe: { noop: server.pid },
    });
    expectConsistent(result);
    expect(result.ok).toBeGreaterThan(0);
    expect(result.failed).toEqual({});
    expect(result.open).toBeUndefined();
    expect(result.observed.noop?.cpuSeconds).toBeGreaterThanOrEqual(0);
  });

  it('open loop: the due calls are rate × seconds, each started or dropped', async () => {
    const result = await runLoad({
      mode: 'open',
      rate: 200,
      seconds: 1,
      warmupSeconds: 0.5,
      workers: 2,
      callModule: calls,
      setup: { address: server.address },
    });
    expectConsistent(result);
    expect(result.open?.due).toBe(200);
    expect((result.open?.started ?? 0) + (result.open?.dropped ?? 0)).toBe(200);
    expect(result.calls).toBe(result.open?.started);
    expect(result.saturated).toBe((result.open?.dropped ?? 0) > 0 || result.saturationReasons.length > 0);
  });

  it('counts a ClientError by its status name', async () => {
    const result = await runLoad({
      mode: 'closed',
      callers: 2,
      seconds: 0.5,
      workers: 1,
      callModule: calls,
      callExport: 'failUnavailable',
      pauseAfterFailureMs: 50,
    });
    expectConsistent(result);
    expect(result.ok).toBe(0);
    expect(result.failed.UNAVAILABLE).toBe(result.calls);
    expect(result.calls).toBeGreaterThan(0);
  });

  it('rejects when the call module has no such export', async () => {
    await expect(
      runLoad({ mode: 'closed', callers: 1, seconds: 0.5, workers: 1, callModule: calls, callExport: 'missing' }),
    ).rejects.toThrow(/no function export missing/);
  });
});

describe('cpuTimeOf', () => {
  it('reads a process CPU time that only grows', async () => {
    const before = await cpuTimeOf(process.pid);
    let spin = 0;
    for (let i = 0; i < 5e6; i += 1) spin += i;
    expect(spin).toBeGreaterThan(0);
    expect(await cpuTimeOf(process.pid)).toBeGreaterThanOrEqual(before);
  });
});
