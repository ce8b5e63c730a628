import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, '../../../..');

/**
 * Gives the test run a real Kafka: `KAFKA_BROKERS` when set, else a single-node Apache Kafka that
 * this setup starts from the jars on Maven Central (scripts/kafka.sh) on free ports and in a
 * throw-away data directory, and stops when the run ends.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const configured = process.env.KAFKA_BROKERS;
  if (configured) {
    project.provide('kafkaBrokers', configured.split(','));
    return async () => {};
  }

  const [port, controllerPort] = [await freePort(), await freePort()];
  const dataDir = await mkdtemp(join(tmpdir(), 'ticket-kafka-'));
  const env = {
    ...process.env,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_DATA_DIR: dataDir,
    KAFKA_FRESH: '1',
  };
  const kafka = (command: 'up' | 'down') =>
    run('bash', [join(repoRoot, 'scripts/kafka.sh'), command], { env, cwd: repoRoot });

  await kafka('up');
  project.provide('kafkaBrokers', [`127.0.0.1:${port}`]);
  return async () => {
    await kafka('down');
    await rm(dataDir, { recursive: true, force: true });
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });
}
