import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/** What /proc says about one process at one moment. */
export interface ProcessReading {
  /** Resident set size now (VmRSS), KiB. */
  rssKiB: number;
  /** User + system CPU time used so far (utime + stime), ms. */
  cpuMs: number;
}

/**
 * Clock ticks per second of /proc/<pid>/stat (USER_HZ), from `getconf CLK_TCK`. It is 100 on every Linux this
 * runs on, so 100 is assumed when getconf is missing; the summary says which it was.
 */
export function clockTicksPerSecond(): { ticks: number; source: string } {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    if (Number.isInteger(ticks) && ticks > 0) return { ticks, source: 'getconf CLK_TCK' };
  } catch {
    // fall through to the assumed value
  }
  return { ticks: 100, source: 'assumed (getconf CLK_TCK unavailable)' };
}

/** One reading of `pid`; undefined when the process is gone (a service died during the run). */
export async function readProcess(pid: number, ticksPerSecond: number): Promise<ProcessReading | undefined> {
  try {
    const [status, stat] = await Promise.all([
      readFile(`/proc/${pid}/status`, 'utf8'),
      readFile(`/proc/${pid}/stat`, 'utf8'),
    ]);
    const rss = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
    // The command name (field 2) may contain spaces, so count from after its closing parenthesis: there
    // fields[0] is field 3, which puts utime (14) at 11 and stime (15) at 12.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    if (rss === undefined || !Number.isFinite(ticks)) return undefined;
    return { rssKiB: Number(rss), cpuMs: (ticks * 1_000) / ticksPerSecond };
  } catch {
    return undefined;
  }
}
