import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BOOKING_MIGRATIONS, BOOKING_SCHEMA } from '@ticket/booking/service';
import { ensureDatabaseExists, migrateSchema, serviceDatabaseUrl } from '@ticket/platform';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { embeddedPostgresProcess, ensurePostgres } from '../src/postgres.ts';
import { runningPid, stopProcess } from '../src/processes.ts';
import { REPO_ROOT } from '../src/stack.ts';

const stateDirs: string[] = [];
const newStateDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ticket-stack-pg-'));
  // As a state directory made by `make up` is: run as root, Postgres runs as its own user and must get in.
  await chmod(dir, 0o755);
  stateDirs.push(dir);
  return dir;
};
afterAll(async () => {
  for (const dir of stateDirs) {
    await stopProcess(embeddedPostgresProcess({ stateDir: dir }));
    await rm(dir, { recursive: true, force: true });
  }
});

const say = () => {};

describe('ensurePostgres', () => {
  it('uses DATABASE_URL as given', async () => {
    const url = 'postgres://someone@db.example:5432/tickets';
    expect(
      await ensurePostgres({ stateDir: await newStateDir(), env: { DATABASE_URL: url }, repoRoot: REPO_ROOT }, say),
    ).toBe(url);
  });

  it('runs an embedded PostgreSQL from the npm registry that the services can migrate and use, across restarts', async () => {
    const stateDir = await newStateDir();
    const options = {
      stateDir,
      env: { STACK_POSTGRES: 'embedded', EMBEDDED_POSTGRES_PORT: '54391' },
      repoRoot: REPO_ROOT,
    };
    const url = await ensurePostgres(options, say);
    expect(url).toBe('postgres://postgres:postgres@127.0.0.1:54391/ticket');

    await ensureDatabaseExists(url);
    await migrateSchema({ url, schema: BOOKING_SCHEMA, migrationsFolder: BOOKING_MIGRATIONS });
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    await sql`insert into booking.stocks (event_id, ticket_type_id, seats_total) values (gen_random_uuid(), gen_random_uuid(), 5)`;
    await sql.end();

    // Stopped and started again: the data is still there.
    expect(await stopProcess(embeddedPostgresProcess(options))).toBe(true);
    expect(await runningPid(embeddedPostgresProcess(options))).toBeUndefined();
    await ensurePostgres(options, say);
    const again = postgres(url, { max: 1, onnotice: () => {} });
    const [row] = await again<{ n: number }[]>`select count(*)::int as n from booking.stocks`;
    await again.end();
    expect(row?.n).toBe(1);

    // As `make up` runs it: the migration CLI provisions booking's role with its password (the embedded server asks
    // every login for one), handing over what the superuser made above, and booking connects as that role.
    const password = 'booking-dev-password';
    await promisify(execFile)(
      process.execPath,
      [join(REPO_ROOT, 'packages/platform/src/cli/migrate.ts'), 'booking', 'src/db/migrations'],
      {
        cwd: join(REPO_ROOT, 'services/booking'),
        env: { ...process.env, DATABASE_URL: url, BOOKING_DB_PASSWORD: password },
      },
    );
    const asBooking = postgres(serviceDatabaseUrl(url, { name: 'booking', password }), { max: 1, onnotice: () => {} });
    const [own] = await asBooking<{ n: number }[]>`select count(*)::int as n from booking.stocks`;
    await asBooking.end();
    expect(own?.n).toBe(1);
    const wrong = postgres(serviceDatabaseUrl(url, { name: 'booking', password: 'wrong' }), { max: 1 });
    // 28P01: invalid_password.
    await expect(wrong`select 1`).rejects.toMatchObject({ code: '28P01' });
    await wrong.end();
  });
});
