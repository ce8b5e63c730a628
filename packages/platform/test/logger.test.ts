import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.ts';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
  };
}

describe('createLogger', () => {
  it('writes one JSON object per line with the service, level, ISO time and fields', () => {
    const { stream, lines } = capture();
    createLogger({ name: 'booking', level: 'info', destination: stream }).info({ orderId: 'o-1' }, 'hold created');
    const [line] = lines();
    expect(line).toMatchObject({ service: 'booking', level: 30, orderId: 'o-1', msg: 'hold created' });
    expect(new Date(String(line?.time)).toISOString()).toBe(line?.time);
  });

  it('drops lines below its level', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ name: 'booking', level: 'warn', destination: stream });
    logger.info('quiet');
    logger.warn('loud');
    expect(lines().map((line) => line.msg)).toEqual(['loud']);
  });

  it('never prints a password or connection string it is handed', () => {
    const { stream, lines } = capture();
    createLogger({ name: 'booking', level: 'info', destination: stream }).info(
      { config: { DATABASE_URL: 'postgres://u:secret@db/x', SMTP_PASSWORD: 'hunter2' }, password: 'p' },
      'config loaded',
    );
    const printed = JSON.stringify(lines());
    expect(printed).not.toContain('secret');
    expect(printed).not.toContain('hunter2');
    expect(lines()[0]).toMatchObject({ password: '***', config: { DATABASE_URL: '***', SMTP_PASSWORD: '***' } });
  });
});
