import { ConfigError } from '@ticket/platform';
import { describe, expect, it } from 'vitest';
import { loadBookingConfig } from './config.ts';

describe('config', () => {
  it('listens on loopback only unless told otherwise: booking is internal', () => {
    const config = loadBookingConfig({ SERVICE_AUTH_SECRET: 's'.repeat(32) });
    expect(config).toMatchObject({ GRPC_HOST: '127.0.0.1', GRPC_PORT: 50610 });
    expect(loadBookingConfig({ SERVICE_AUTH_SECRET: 's'.repeat(32), GRPC_HOST: '0.0.0.0' }).GRPC_HOST).toBe('0.0.0.0');
  });

  it('refuses to start without the key its callers’ tokens are checked with', () => {
    expect(() => loadBookingConfig({})).toThrow(ConfigError);
    expect(() => loadBookingConfig({})).toThrow(/SERVICE_AUTH_SECRET/);
  });
});
