#!/usr/bin/env node
// Applies one service's migrations: `ticket-migrate <schema> <migrations-folder>`.
// Reads DATABASE_URL (default: the local server); creates that database first when it is missing,
// which is what a local run wants and harmless in production where it exists.
//
// Whoever DATABASE_URL logs in as, the service's role ends up owning what the migrations create. An owner or
// superuser (make migrate, make up) provisions the role first (TICKET_ROLE_PREFIX + schema, password from
// <SCHEMA>_DB_PASSWORD when set) and migrates as it; any other user is taken to be the service's role itself
// (production's migration jobs, whose roles infra/postgres/init/10-service-roles.sh made) and migrates as itself.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
// First, so that it applies to drizzle-orm loaded below: see module-hooks.ts.
import '../module-hooks.ts';

const { commonConfig, loadConfig } = await import('../config.ts');
const { ensureDatabaseExists, migrateSchema } = await import('../db/migrate.ts');
const { canProvisionRoles, serviceRole } = await import('../db/roles.ts');

const { positionals } = parseArgs({ allowPositionals: true });
const [schema, folder] = positionals;
if (!schema || !folder) {
  console.error('usage: ticket-migrate <schema> <migrations-folder>');
  process.exit(2);
}

try {
  const { DATABASE_URL } = loadConfig({ DATABASE_URL: commonConfig.DATABASE_URL });
  await ensureDatabaseExists(DATABASE_URL);
  const role = (await canProvisionRoles(DATABASE_URL)) ? serviceRole(schema) : undefined;
  await migrateSchema({ url: DATABASE_URL, schema, migrationsFolder: resolve(folder), role });
  console.log(`migrated schema ${schema}${role ? ` as role ${role.name}` : ''} (${redact(DATABASE_URL)})`);
} catch (error) {
  console.error(`migrating schema ${schema} failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
