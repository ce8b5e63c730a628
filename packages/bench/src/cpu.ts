import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

let clockTicks: number | undefined;

/** USER_HZ, the unit of /proc/<pid>/stat times (`getconf CLK_TCK`; 100 if getconf is missing). */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU seconds process `pid` has used so far (utime + stime of /proc/<pid>/stat), at 1/CLK_TCK resolution. */
export async function cpuTimeOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count from after its closing parenthesis, where field 3 is [0].
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond();
}
