import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const platformDir = join(import.meta.dirname, '..');
const shutdownModule = pathToFileURL(join(platformDir, 'src/grpc/shutdown.ts')).href;

interface Outcome {
  code: number | null;
  /** `msg` of each JSON log line and each plain line the closers print, in order. */
  lines: string[];
  elapsedMs: number;
}

/**
 * Runs a real Node process that registers `onShutdownSignal` with the closers given as source text, waits until
 * it is ready, sends it the signals, and reports how it ended.
 */
async function runWithSignals(closers: string, signals: NodeJS.Signals[], timeoutMs = 2_000): Promise<Outcome> {
  const source = `
    import { setTimeout as sleep } from 'node:timers/promises';
    import { pino } from 'pino';
    import { onShutdownSignal } from ${JSON.stringify(shutdownModule)};
    const logger = pino({ level: 'info' });
    onShutdownSignal(${closers}, logger, { timeoutMs: ${timeoutMs} });
    setInterval(() => {}, 60_000);
    console.log('ready');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
    cwd: platformDir,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const ready = Promise.withResolvers<void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    if (output.includes('ready\n')) ready.resolve();
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  await Promise.race([ready.promise, exited]);
  const begun = performance.now();
  for (const [index, signal] of signals.entries()) {
    if (index > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    child.kill(signal);
  }
  const [code] = await exited;
  const lines = output
    .trim()
    .split('\n')
    .map((line) => (line.startsWith('{') ? (JSON.parse(line) as { msg: string }).msg : line));
  return { code, lines, elapsedMs: performance.now() - begun };
}

const printer = (name: string, ms = 0) =>
  `{ name: '${name}', close: async () => { await sleep(${ms}); console.log('${name} closed'); } }`;

describe('onShutdownSignal', () => {
  it('on SIGTERM runs the closers once, in the order given, and exits 0', async () => {
    const outcome = await runWithSignals(`[${printer('grpc', 100)}, ${printer('kafka')}, ${printer('db')}]`, [
      'SIGTERM',
    ]);
    expect(outcome.code).toBe(0);
    expect(outcome.lines.filter((line) => line.endsWith(' closed'))).toEqual([
      'grpc closed',
      'kafka closed',
      'db closed',
    ]);
    expect(outcome.lines).toContain('shutdown complete');
  });

  it('handles SIGINT the same way', async () => {
    const outcome = await runWithSignals(`[${printer('db')}]`, ['SIGINT']);
    expect(outcome.code).toBe(0);
    expect(outcome.lines).toContain('db closed');
  });

  it('still closes the rest when one closer fails, then exits 1', async () => {
    const failing = `{ name: 'kafka', close: async () => { throw new Error('broker gone'); } }`;
    const outcome = await runWithSignals(`[${printer('grpc')}, ${failing}, ${printer('db')}]`, ['SIGTERM']);
    expect(outcome.code).toBe(1);
    expect(outcome.lines).toEqual(expect.arrayContaining(['grpc closed', 'close failed', 'db closed']));
  });

  it('exits 1 when closing takes longer than the timeout', async () => {
    const hanging = `{ name: 'stuck', close: () => new Promise(() => {}) }`;
    const outcome = await runWithSignals(`[${hanging}]`, ['SIGTERM'], 300);
    expect(outcome.code).toBe(1);
    expect(outcome.lines).toContain('shutdown took too long, exiting');
    // Near the 300 ms timeout; the closer itself never ends.
    expect(outcome.elapsedMs).toBeLessThan(5_000);
  });

  it('exits 1 at once on a second signal', async () => {
    const outcome = await runWithSignals(`[${printer('slow', 30_000)}]`, ['SIGTERM', 'SIGINT'], 60_000);
    expect(outcome.code).toBe(1);
    expect(outcome.lines).toContain('second signal, exiting without waiting');
    // At once, not after the 30 s closer.
    expect(outcome.elapsedMs).toBeLessThan(5_000);
  });
});
