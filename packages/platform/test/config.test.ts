import { describe, expect, it } from 'vitest';
import { ConfigError, commonConfig, env, loadConfig } from '../src/config.ts';

const shape = {
  ...commonConfig,
  GRPC_PORT: env.port(50610),
  HOLD_TTL_SECONDS: env.positiveInt(900),
};

describe('loadConfig', () => {
  it('applies defaults when nothing is set', () => {
    const config = loadConfig(shape, {});
    expect(config.GRPC_PORT).toBe(50610);
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(config.LOG_PRETTY).toBe(false);
  });

  it('parses and coerces what is set', () => {
    const config = loadConfig(shape, {
      GRPC_PORT: '6000',
      KAFKA_BROKERS: 'a:1, b:2',
      LOG_PRETTY: 'true',
      DATABASE_URL: 'postgres://u@db:5432/x',
    });
    expect(config).toMatchObject({ GRPC_PORT: 6000, KAFKA_BROKERS: ['a:1', 'b:2'], LOG_PRETTY: true });
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig(shape, { GRPC_PORT: '' }).GRPC_PORT).toBe(50610);
  });

  it('names every bad variable in one error', () => {
    const attempt = () =>
      loadConfig(shape, { GRPC_PORT: 'http', HOLD_TTL_SECONDS: '-5', DATABASE_URL: 'not a url', LOG_LEVEL: 'loud' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const { problems, message } = error as ConfigError;
      expect(problems.map((problem) => problem.split(':')[0])).toEqual(
        expect.arrayContaining(['GRPC_PORT', 'HOLD_TTL_SECONDS', 'DATABASE_URL', 'LOG_LEVEL']),
      );
      expect(problems).toHaveLength(4);
      expect(message).toContain('invalid configuration');
    }
  });

  it('reports a required variable that is missing', () => {
    expect(() => loadConfig({ SMTP_HOST: env.url() }, {})).toThrow(/SMTP_HOST: required but not set/);
  });
});
