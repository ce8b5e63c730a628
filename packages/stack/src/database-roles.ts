import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ServiceName } from './services.ts';

// Each service connects as its own Postgres role, which owns its schema and can touch no other (as in production,
// where infra/postgres/init/10-service-roles.sh makes the roles). Under `make up` the platform's migration CLI
// provisions the role from the owner's DATABASE_URL, and the platform's ticket-database-url prints the URL the
// service then connects with: the same two commands `make run` uses, so a role's name is decided in one place.

const run = promisify(execFile);

const DATABASE_URL_CLI = join(import.meta.dirname, '../../platform/src/cli/database-url.ts');

/** The variable holding a service's role password, as docker-compose.prod.yml and ticket-migrate name it. */
export { rolePasswordVariable } from '@ticket/platform/roles';

/**
 * The URL `name` connects with: the server and database of `env`'s DATABASE_URL, logged in as the role that
 * ticket-migrate provisions from that same environment (TICKET_ROLE_PREFIX, <SERVICE>_DB_PASSWORD).
 */
export async function roleDatabaseUrl(name: ServiceName, env: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await run(process.execPath, [DATABASE_URL_CLI, name], { env });
  return stdout.trim();
}
