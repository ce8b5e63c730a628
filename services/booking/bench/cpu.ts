import { readFile } from 'node:fs/promises';

/** Kernel clock ticks per second in /proc (USER_HZ): 100 on every Linux this runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/** User + system CPU seconds a process has used: utime and stime, fields 14 and 15 of /proc/<pid>/stat. */
export async function readProcessCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces, so count from after its closing parenthesis:
  // there fields[0] is field 3, which puts utime at 11 and stime at 12.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

export interface MachineCpu {
  busyTicks: number;
  totalTicks: number;
}

/** All cores together, from the first line of /proc/stat; idle and iowait count as not busy. */
export async function readMachineCpu(): Promise<MachineCpu> {
  const stat = await readFile('/proc/stat', 'utf8');
  const ticks = (stat.split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
  const totalTicks = ticks.reduce((sum, value) => sum + value, 0);
  const idleTicks = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busyTicks: totalTicks - idleTicks, totalTicks };
}

/** Share of the machine's CPU time (all cores) that was busy between two readings, 0..1. */
export const busyShare = (before: MachineCpu, after: MachineCpu): number =>
  (after.busyTicks - before.busyTicks) / Math.max(1, after.totalTicks - before.totalTicks);
