import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const platformDir = join(import.meta.dirname, '..');
const serviceModule = pathToFileURL(join(platformDir, 'src/service.ts')).href;

describe('logProcessWarnings', () => {
  it('logs process warnings as JSON instead of printing them to stderr, and drops the negative-timeout one', async () => {
    const source = `
      import { pino } from 'pino';
      import { logProcessWarnings } from ${JSON.stringify(serviceModule)};
      logProcessWarnings(pino({ level: 'info' }));
      setTimeout(() => {}, -5);
      process.emitWarning('something to look at', 'ExampleWarning');
      setTimeout(() => {}, 50);
    `;
    const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', source], { cwd: platformDir });

    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: number; msg: string; warning?: string });
    expect(lines).toEqual([expect.objectContaining({ level: 40, msg: 'something to look at' })]);
    expect(lines[0]?.warning).toBe('ExampleWarning');
    expect(stderr).toBe('');
  });
});
