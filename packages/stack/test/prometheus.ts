import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@ticket/platform/testing';

/** A real Prometheus server scraping the given targets every second, with its HTTP query API. */
export interface TestPrometheus {
  /** The first sample's value of an instant query, or undefined when it has no result. */
  query(expression: string): Promise<number | undefined>;
  stop(): Promise<void>;
}

const READY_WITHIN_MS = 30_000;

/**
 * Starts the `prometheus` binary (Debian's package: `apt-get install prometheus`; PROMETHEUS_BIN names another) on a
 * free port, with its own data directory, scraping `targets` (`host:port`, path /metrics) every second.
 */
export async function startTestPrometheus(targets: readonly string[]): Promise<TestPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'ticket-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  await writeFile(
    config,
    [
      'global: { scrape_interval: 1s, scrape_timeout: 1s }',
      'scrape_configs:',
      '  - job_name: ticket',
      `    static_configs: [{ targets: [${targets.map((target) => `"${target}"`).join(', ')}] }]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const log = await open(join(dir, 'prometheus.log'), 'w');
  const binary = process.env.PROMETHEUS_BIN ?? 'prometheus';
  const child = spawn(
    binary,
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: ['ignore', log.fd, log.fd] },
  );
  // events.once rejects on 'error' (no such binary): failedToStart says so; the exit wait must not also throw.
  const exited = once(child, 'exit').catch(() => undefined);
  const failedToStart = Promise.race([
    once(child, 'error').then(([error]) => {
      throw new Error(
        `cannot run ${binary} (${(error as Error).message}): apt-get install prometheus, or set PROMETHEUS_BIN`,
      );
    }),
    exited.then(() => {
      throw new Error(`${binary} exited at start: see ${join(dir, 'prometheus.log')}`);
    }),
  ]);
  const base = `http://127.0.0.1:${port}`;

  async function stop(): Promise<void> {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await log.close();
    await rm(dir, { recursive: true, force: true });
  }

  try {
    await Promise.race([failedToStart, waitUntilReady(base)]);
  } catch (error) {
    await stop();
    throw error;
  }
  failedToStart.catch(() => {}); // once it is ready, an exit is stop()'s doing
  return {
    async query(expression) {
      const response = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expression)}`);
      const body = (await response.json()) as { data?: { result?: { value: [number, string] }[] } };
      const value = body.data?.result?.[0]?.value[1];
      return value === undefined ? undefined : Number(value);
    },
    stop,
  };
}

async function waitUntilReady(base: string): Promise<void> {
  const deadline = Date.now() + READY_WITHIN_MS;
  for (;;) {
    const ready = await fetch(`${base}/-/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`Prometheus was not ready within ${READY_WITHIN_MS / 1_000} s`);
    await sleep(200);
  }
}
