import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { maintenanceUrl, quoteIdentifier } from '../db/migrate.ts';

/** The server tests run against: `DATABASE_URL` when set, else the local one. */
export const testServerUrl = (): string => process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * A new, empty database on the test server, so each test file sees only its own rows and test
 * files run in parallel without touching each other.
 */
export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const server = testServerUrl();
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(maintenanceUrl(server), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${quoteIdentifier(name)}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const cleaner = postgres(maintenanceUrl(server), { max: 1, onnotice: () => {} });
      try {
        await cleaner.unsafe(`drop database if exists ${quoteIdentifier(name)} with (force)`);
      } finally {
        await cleaner.end({ timeout: 5 });
      }
    },
  };
}
