import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ManagedProcess, runningPid, startDetached, stopProcess } from '../src/processes.ts';

const dirs: string[] = [];
async function managed(): Promise<ManagedProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'ticket-stack-proc-'));
  dirs.push(dir);
  return { name: 'sleeper', pidFile: join(dir, 'sleeper.pid'), logFile: join(dir, 'logs', 'sleeper.log') };
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('managed processes', () => {
  it('starts a detached process, finds it by its pid file and stops it', async () => {
    const sleeper = await managed();
    const pid = await startDetached(
      sleeper,
      process.execPath,
      ['-e', 'setInterval(() => {}, 1000)'],
      process.env,
      tmpdir(),
    );
    expect(await runningPid(sleeper)).toBe(pid);
    expect(await stopProcess(sleeper, 5_000)).toBe(true);
    expect(await runningPid(sleeper)).toBeUndefined();
  });

  it('does not take a live process with a reused pid for its own', async () => {
    const stale = await managed();
    // This test's own pid is alive, but it started at another time than the pid file says.
    await writeFile(stale.pidFile, `${process.pid} 1\n`);
    expect(await runningPid(stale)).toBeUndefined();
    expect(await stopProcess(stale)).toBe(false);
  });
});
