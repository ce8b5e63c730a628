import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readProcessCpuSeconds } from './cpu.ts';

const MAIN = join(import.meta.dirname, '../src/main.ts');
const STOP_GRACE_MS = 15_000;

/** Children still running, so an interrupted bench can take them down with it. */
const running = new Set<ChildProcess>();

/** SIGTERM to every booking process the bench started and that still runs. */
export function terminateBookingProcesses(): void {
  for (const child of running) child.kill('SIGTERM');
}

export interface BookingProcessOptions {
  databaseUrl: string;
  grpcPort: number;
  /** Brokers the service is told about; the bench points them at a port nobody listens on. */
  kafkaBrokers: string;
  /** The key the bench signs its service tokens with (SERVICE_AUTH_SECRET): booking admits no other caller. */
  serviceAuthSecret: string;
  logLevel: string;
  /** Where the child's stdout and stderr go, so its logs never mix with the summary. */
  logFile: string;
}

export interface BookingProcess {
  pid: number;
  /** Its gRPC port on 127.0.0.1. */
  port: number;
  /** Rejects when the child exits before `stop()` asked it to. */
  exited: Promise<never>;
  /** Peak resident set size so far (VmHWM), in KiB. */
  peakRssKiB(): Promise<number>;
  /** User + system CPU seconds the child has used so far. */
  cpuSeconds(): Promise<number>;
  /** SIGTERM, the service's graceful shutdown; SIGKILL if it takes too long. Resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Booking as production runs it: its own Node process (`node src/main.ts`), configured by environment
 * only. A separate process keeps the load generator's CPU and memory out of the service's figures.
 */
export async function startBookingProcess(options: BookingProcessOptions): Promise<BookingProcess> {
  const log = createWriteStream(options.logFile);
  await once(log, 'open');
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      DATABASE_URL: options.databaseUrl,
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: String(options.grpcPort),
      KAFKA_BROKERS: options.kafkaBrokers,
      SERVICE_AUTH_SECRET: options.serviceAuthSecret,
      LOG_LEVEL: options.logLevel,
      LOG_PRETTY: 'false',
      MIGRATE_ON_START: 'false',
    },
    stdio: ['ignore', log, log],
  });
  if (child.pid === undefined) throw new Error(`could not start ${MAIN}`);
  const pid = child.pid;
  running.add(child);
  child.once('exit', () => running.delete(child));
  let stopping = false;
  const exited = exitOf(child).then((code) => {
    throw new Error(`booking exited with code ${code} ${stopping ? 'while stopping' : 'unexpectedly'}`);
  });
  exited.catch(() => {}); // observed by whoever races it; never an unhandled rejection

  return {
    pid,
    port: options.grpcPort,
    exited,
    peakRssKiB: () => readPeakRssKiB(pid),
    cpuSeconds: () => readProcessCpuSeconds(pid),
    async stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      let code = await Promise.race([exitOf(child), sleep(STOP_GRACE_MS, 'timeout' as const)]);
      if (code === 'timeout') {
        child.kill('SIGKILL');
        code = await exitOf(child);
      }
      log.end();
      return code;
    },
  };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return once(child, 'exit').then(([code]) => code as number | null);
}

/** Fails unless connecting to the port is refused: the "broker" the service gets must really be absent. */
export async function assertNothingListens(port: number): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  try {
    await once(socket, 'connect');
  } catch (error) {
    if ((error as { code?: string }).code === 'ECONNREFUSED') return;
    throw error;
  } finally {
    socket.destroy();
  }
  throw new Error(`something listens on 127.0.0.1:${port}; the bench wants no Kafka there`);
}

/** VmHWM: the most resident memory the process ever had, as the kernel counted it. */
export async function readPeakRssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(match[1]);
}
