import { ConfigError } from '@ticket/platform';
import { describe, expect, it } from 'vitest';
import { loadEventConfig } from './config.ts';

const serviceKey = { SERVICE_AUTH_SECRET: 's'.repeat(32) };

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadEventConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('config', () => {
  it('needs a way to verify users’ tokens: the development secret, an identity provider’s JWKS, or both', () => {
    expect(problemsOf(serviceKey)).toEqual([
      'AUTH_JWT_SECRET or AUTH_JWKS_URL: set at least one, or no token can be verified',
    ]);
    expect(problemsOf({ ...serviceKey, AUTH_JWT_SECRET: 'u'.repeat(32) })).toEqual([]);
    expect(problemsOf({ ...serviceKey, AUTH_JWKS_URL: 'https://idp.example.com/certs' })).toEqual([]);
  });

  it('needs the services’ key, to call booking', () => {
    expect(problemsOf({ AUTH_JWT_SECRET: 'u'.repeat(32) })).toEqual([expect.stringMatching(/^SERVICE_AUTH_SECRET: /)]);
    expect(problemsOf({ AUTH_JWT_SECRET: 'u'.repeat(32), SERVICE_AUTH_SECRET: 'short' })).toEqual([
      expect.stringMatching(/^SERVICE_AUTH_SECRET: .*32 characters/),
    ]);
  });

  it('says every problem at once', () => {
    const problems = problemsOf({ ...serviceKey, BOOKING_DEADLINE_MS: '60000' });
    expect(problems).toHaveLength(2);
  });
});
