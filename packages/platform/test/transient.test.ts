import { describe, expect, it } from 'vitest';
import { isTransientError } from '../src/transient.ts';

const postgresError = (code: string) => Object.assign(new Error(`sqlstate ${code}`), { code });

describe('isTransientError', () => {
  it.each([
    ['08006', 'connection failure'],
    ['40001', 'serialization failure'],
    ['40P01', 'deadlock'],
    ['53300', 'too many connections'],
    ['55P03', 'lock not available'],
    ['57014', 'statement timeout'],
    ['57P01', 'admin shutdown'],
    ['25006', 'read-only transaction (failover)'],
  ])('retries SQLSTATE %s (%s)', (code) => {
    expect(isTransientError(postgresError(code))).toBe(true);
  });

  it.each([
    ['23505', 'unique violation'],
    ['22008', 'datetime out of range'],
    ['42P01', 'undefined table'],
    ['57P04', 'database dropped'],
  ])('does not retry SQLSTATE %s (%s)', (code) => {
    expect(isTransientError(postgresError(code))).toBe(false);
  });

  it('looks at network errors, kafkajs retriable errors and causes', () => {
    expect(isTransientError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isTransientError(Object.assign(new Error('broker'), { retriable: true }))).toBe(true);
    expect(isTransientError(new Error('wrapped', { cause: postgresError('40001') }))).toBe(true);
    expect(isTransientError(new Error('plain'))).toBe(false);
    expect(isTransientError('not an error')).toBe(false);
  });
});
