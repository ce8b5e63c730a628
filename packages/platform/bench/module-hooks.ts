/**
 * `make bench-startup`: what loading the platform (and with it drizzle-orm) costs a service process, with and without
 * the module hooks that main.ts registers first (src/module-hooks.ts). Each variant runs BENCH_RUNS times in fresh
 * Node processes, alternating; prints the median resident memory after the import and the import time, and the ratios.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { env, loadConfig } from '../src/config.ts';

const run = promisify(execFile);
const { BENCH_RUNS } = loadConfig({ BENCH_RUNS: env.positiveInt(5) });
const platformDir = join(import.meta.dirname, '..');
const url = (path: string) => JSON.stringify(pathToFileURL(join(platformDir, path)).href);

interface Sample {
  rssMiB: number;
  importMs: number;
}

async function measure(withHooks: boolean): Promise<Sample> {
  const source = `
    const started = performance.now();
    ${withHooks ? `await import(${url('src/module-hooks.ts')});` : ''}
    await import(${url('src/index.ts')});
    const importMs = performance.now() - started;
    console.log(JSON.stringify({ rssMiB: process.memoryUsage().rss / 2 ** 20, importMs }));
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', source], { cwd: platformDir });
  return JSON.parse(stdout) as Sample;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

const samples = { plain: [] as Sample[], hooked: [] as Sample[] };
for (let i = 0; i < BENCH_RUNS; i += 1) {
  samples.plain.push(await measure(false));
  samples.hooked.push(await measure(true));
}
const summary = Object.fromEntries(
  Object.entries(samples).map(([name, list]) => [
    name,
    { rssMiB: median(list.map((s) => s.rssMiB)), importMs: median(list.map((s) => s.importMs)) },
  ]),
) as Record<keyof typeof samples, Sample>;

console.log(`loading @ticket/platform in a fresh process (${process.version}), median of ${BENCH_RUNS} runs each`);
console.log(
  `  without module hooks: ${summary.plain.rssMiB.toFixed(0)} MiB RSS, ${summary.plain.importMs.toFixed(0)} ms`,
);
console.log(
  `  with module hooks:    ${summary.hooked.rssMiB.toFixed(0)} MiB RSS, ${summary.hooked.importMs.toFixed(0)} ms`,
);
console.log(
  `  ratio: ${(summary.plain.rssMiB / summary.hooked.rssMiB).toFixed(1)}× less memory, ` +
    `${(summary.plain.importMs / summary.hooked.importMs).toFixed(1)}× faster`,
);
