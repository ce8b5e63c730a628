import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';

const MAIN = new URL('./noop-server-main.ts', import.meta.url);
const LISTEN_WITHIN_MS = 30_000;

export interface NoopServerOptions {
  /** Module of the ts-proto service definition: a file URL (`import.meta.resolve(…)`) or a specifier resolvable from this package. */
  definitionModule: string;
  /** Its export, e.g. `BookingServiceDefinition`. */
  definitionExport: string;
}

export interface NoopServer {
  /** `127.0.0.1:<port>` */
  address: string;
  port: number;
  pid: number;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * A nice-grpc server in its own process answering every method of the definition at once with an empty
 * (default) response: the transport limit for a benchmark, and its CPU per call (cpuTimeOf(pid)).
 */
export async function startNoopServer(options: NoopServerOptions): Promise<NoopServer> {
  const child = fork(MAIN, [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  if (child.pid === undefined) throw new Error(`could not start ${MAIN.pathname}`);
  const pid = child.pid;
  running.add(child);
  child.once('exit', () => running.delete(child));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no-op server not listening within ${LISTEN_WITHIN_MS} ms`)),
      LISTEN_WITHIN_MS,
    );
    child.once('message', (message: { port: number }) => {
      clearTimeout(timer);
      resolve(message.port);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`no-op server exited (${signal ?? code}) before listening`));
    });
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    address: `127.0.0.1:${port}`,
    port,
    pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
