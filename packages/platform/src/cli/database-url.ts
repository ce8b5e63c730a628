#!/usr/bin/env node
// Prints the URL a service connects to Postgres with: `ticket-database-url <schema>`. The server and database of
// DATABASE_URL (default: the local one), logged in as the service's role (TICKET_ROLE_PREFIX + schema, with
// <SCHEMA>_DB_PASSWORD when set), which `ticket-migrate` provisions from the same environment. `make run` and
// `make up` start a service with it, so it runs with its own role's rights, not the owner's that migrated.
// Decides as ticket-migrate does: a DATABASE_URL that cannot provision roles is the service's role already, and is
// printed as it is.
import { parseArgs } from 'node:util';
import { commonConfig, loadConfig } from '../config.ts';
import { canProvisionRoles, serviceDatabaseUrl, serviceRole } from '../db/roles.ts';

const { positionals } = parseArgs({ allowPositionals: true });
const [schema] = positionals;
if (!schema || positionals.length > 1) {
  console.error('usage: ticket-database-url <schema>');
  process.exit(2);
}

try {
  const { DATABASE_URL } = loadConfig({ DATABASE_URL: commonConfig.DATABASE_URL });
  const owner = await canProvisionRoles(DATABASE_URL);
  console.log(owner ? serviceDatabaseUrl(DATABASE_URL, serviceRole(schema)) : DATABASE_URL);
} catch (error) {
  console.error(`no database URL for ${schema}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
