import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';

/** A process the stack started and left running: its pid is kept in a file so a later `down` finds it. */
export interface ManagedProcess {
  name: string;
  pidFile: string;
  logFile: string;
}

/** Starts `command` in its own process group, detached from this one, its output appended to the log file. */
export async function startDetached(
  managed: ManagedProcess,
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<number> {
  await mkdir(dirname(managed.logFile), { recursive: true });
  const log = openSync(managed.logFile, 'a');
  try {
    const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', log, log] });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () =>
        child.pid === undefined ? reject(new Error(`${command} did not start`)) : resolve(child.pid),
      );
    });
    child.unref();
    await writeFile(managed.pidFile, `${pid} ${await startTimeOf(pid)}\n`);
    return pid;
  } finally {
    closeSync(log);
  }
}

/**
 * The pid of the process if it still runs. The pid file also holds the process's start time, so a pid the
 * system has since given to another process (after a reboot, say) is neither trusted nor signalled.
 */
export async function runningPid(managed: ManagedProcess): Promise<number | undefined> {
  const text = await readFile(managed.pidFile, 'utf8').catch(() => '');
  const [pidText, startedText] = text.trim().split(' ');
  const pid = Number.parseInt(pidText ?? '', 10);
  if (!Number.isInteger(pid) || !isAlive(pid)) return undefined;
  return startedText === undefined || startedText === (await startTimeOf(pid)) ? pid : undefined;
}

/** When the process started, in clock ticks since boot (field 22 of /proc/<pid>/stat); '-' where /proc is missing. */
async function startTimeOf(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // The command name (field 2) may hold spaces and parentheses: count the fields after its closing one.
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '-';
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGTERM (the services drain their calls and close cleanly), then SIGKILL if it is still there after
 * `graceMs`. Resolves once the process is gone.
 */
export async function stopProcess(managed: ManagedProcess, graceMs = 20_000): Promise<boolean> {
  const pid = await runningPid(managed);
  if (pid !== undefined) {
    signal(pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    if (isAlive(pid)) signal(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(50);
  }
  await rm(managed.pidFile, { force: true });
  return pid !== undefined;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until something accepts connections on the local port. */
export async function awaitPort(port: number, alive: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await accepts(port))) {
    if (!alive()) throw new Error(`the process meant to listen on port ${port} exited`);
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The last lines a managed process wrote, to show why it failed. */
export async function logTail(managed: ManagedProcess, lines = 30): Promise<string> {
  const text = await readFile(managed.logFile, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines).join('\n');
}

/** Waits until the file exists: how a managed process says it is ready when an open port is not enough. */
export async function awaitFile(path: string, alive: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await exists(path))) {
    if (!alive()) throw new Error('the process exited');
    if (Date.now() > deadline) throw new Error(`not ready after ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );
