import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';

// No vitest import here: the global setup loads this file outside any test worker.

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, '../../../..');

export interface KafkaBroker {
  /** `127.0.0.1:<port>`, for kafkajs. */
  brokers: string[];
  port: number;
  dataDir: string;
  /** Stops the broker (controlled shutdown); its data and ports stay, so `restart()` brings the same cluster back. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data directory: topics, messages and offsets are still there. */
  restart(): Promise<void>;
  /** Stops it and deletes its data directory. */
  destroy(): Promise<void>;
}

/**
 * A real single-node Apache Kafka (KRaft) from scripts/kafka.sh, on free ports and in a fresh temporary data
 * directory. The test run's shared broker comes from here (global setup); a test that must take Kafka down and
 * bring it back starts its own, so the others keep theirs.
 */
export async function startKafkaBroker(): Promise<KafkaBroker> {
  const [port, controllerPort] = [await freePort(), await freePort()];
  const dataDir = await mkdtemp(join(tmpdir(), 'ticket-kafka-'));
  const env = {
    ...process.env,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_DATA_DIR: dataDir,
  };
  const kafka = async (command: 'up' | 'down', extra: Record<string, string> = {}) => {
    await run('bash', [join(repoRoot, 'scripts/kafka.sh'), command], { env: { ...env, ...extra }, cwd: repoRoot });
  };
  await kafka('up', { KAFKA_FRESH: '1' });
  return {
    brokers: [`127.0.0.1:${port}`],
    port,
    dataDir,
    stop: () => kafka('down'),
    restart: () => kafka('up'),
    async destroy() {
      await kafka('down');
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
