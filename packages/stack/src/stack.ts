import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DefaultHttpPort, DefaultMetricsPort, DefaultPort } from '@ticket/contracts/topology';
import { SERVICE_NODE_FLAGS } from '@ticket/platform/node-flags';
import { roleDatabaseUrl, rolePasswordVariable } from './database-roles.ts';
import { awaitServing, checkHealth, type Health } from './health.ts';
import { embeddedPostgresProcess, ensurePostgres } from './postgres.ts';
import {
  awaitPort,
  isAlive,
  logTail,
  type ManagedProcess,
  runningPid,
  startDetached,
  stopProcess,
} from './processes.ts';
import { SERVICE_NAMES, type ServiceName, serviceAddress } from './services.ts';

const run = promisify(execFile);

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');

/** Where `make up` keeps pid files, logs, caught emails and the dev secret (STACK_STATE_DIR overrides it). */
export const defaultStateDir = (env: NodeJS.ProcessEnv = process.env): string =>
  env.STACK_STATE_DIR ?? join(REPO_ROOT, '.data/stack');

/** The file in the state directory that holds the generated value of `variable` (`AUTH_JWT_SECRET` → auth-jwt-secret). */
export const devSecretFile = (stateDir: string, variable: string): string =>
  join(stateDir, variable.toLowerCase().replaceAll('_', '-'));

export interface StackOptions {
  /** Where pid files, logs and the generated dev secret live. */
  stateDir: string;
  /** The environment the services get (DATABASE_URL, KAFKA_BROKERS, LOG_LEVEL, …); defaults fill the rest. */
  env: NodeJS.ProcessEnv;
  /** Ports other than the standard ones, e.g. for a test running beside a dev stack. */
  ports?: Partial<Record<ServiceName, number>>;
  /** The same for each service's Prometheus endpoint (METRICS_PORT). */
  metricsPorts?: Partial<Record<ServiceName, number>>;
  say?: (line: string) => void;
}

export interface ServiceStatus {
  name: ServiceName;
  address: string;
  pid: number | undefined;
  health: Health;
}

const START_TIMEOUT_MS = 60_000;

/**
 * Brings the system up: Postgres (see ensurePostgres), Kafka (unless KAFKA_BROKERS names one), the mail
 * catcher (unless SMTP_HOST names a server), the sandbox payment provider (unless PAYMENT_PROVIDER names another
 * one), every service's migrations, then the services, bundled afresh (see bundleServices) and started one by
 * one in dependency order from their bundles, each awaited until its health check serves. Services already
 * running are left as they are, so `up` is safe to repeat.
 */
export async function stackUp(options: StackOptions): Promise<ServiceStatus[]> {
  const say = options.say ?? (() => {});
  await mkdir(logDir(options), { recursive: true });
  // The owner's URL: it provisions each service's role and migrates as it; a service gets only its role's URL.
  const databaseUrl = await ensurePostgres({ ...options, repoRoot: REPO_ROOT }, say);
  const env = { ...(await serviceEnv(options)), DATABASE_URL: databaseUrl };
  if (!options.env.KAFKA_BROKERS) await startLocalKafka(options, say);
  if (!options.env.SMTP_HOST) await startMailCatcher(options, env, say);
  if (usesPaymentSandbox(options)) await startPaymentSandbox(options, say);
  const databaseUrls = new Map<ServiceName, string>();
  for (const name of SERVICE_NAMES) databaseUrls.set(name, await migrateAsRole(options, name, env, say));
  await bundleServices(say);
  for (const name of SERVICE_NAMES) {
    const managed = managedProcess(options, name);
    const address = serviceAddress(portOf(options, name));
    if ((await runningPid(managed)) !== undefined) {
      say(`${name}: already running`);
      continue;
    }
    const port = String(portOf(options, name));
    const pid = await startDetached(
      managed,
      process.execPath,
      [...SERVICE_NODE_FLAGS, bundleOf(name)],
      {
        ...env,
        DATABASE_URL: databaseUrls.get(name),
        GRPC_PORT: port,
        METRICS_PORT: String(metricsPortOf(options, name)),
      },
      REPO_ROOT,
    );
    try {
      await awaitServing(address, { timeoutMs: START_TIMEOUT_MS, alive: () => isAlive(pid) });
    } catch (error) {
      throw new Error(`${name} did not start: ${(error as Error).message}\n${await logTail(managed)}`);
    }
    say(`${name}: serving on ${address} (pid ${pid}), metrics at ${metricsUrlOf(options, name)}`);
  }
  return stackStatus(options);
}

/** What a service runs: its bundle (ticket-bundle), as the Docker image does. */
export const bundleOf = (name: ServiceName): string => join(REPO_ROOT, 'services', name, 'dist/main.js');

/**
 * Bundles every service afresh before starting them. Always, rather than when a source looks newer than the bundle:
 * a bundle depends on hundreds of files across the workspaces and node_modules, and building all four takes a few
 * seconds, so a stale bundle is never worth the risk. Services already running keep the bundle they started with.
 */
async function bundleServices(say: (line: string) => void): Promise<void> {
  const { stdout } = await run(process.execPath, [join(REPO_ROOT, 'packages/platform/src/cli/bundle.ts')], {
    cwd: REPO_ROOT,
  });
  say(stdout.trim());
}

/** Stops the services in reverse order (SIGTERM: they drain and close), then the Kafka that `up` started. */
export async function stackDown(options: StackOptions): Promise<void> {
  const say = options.say ?? (() => {});
  for (const name of [...SERVICE_NAMES].reverse()) {
    if (await stopProcess(managedProcess(options, name))) say(`${name}: stopped`);
  }
  if (await stopProcess(paymentSandboxProcess(options))) say('payment sandbox: stopped');
  if (await stopProcess(mailCatcherProcess(options))) say('mail catcher: stopped');
  if (await stopProcess(embeddedPostgresProcess(options))) say('postgres: embedded server stopped');
  const marker = kafkaMarker(options);
  if (
    await readFile(marker)
      .then(() => true)
      .catch(() => false)
  ) {
    await run('bash', [join(REPO_ROOT, 'scripts/kafka.sh'), 'down'], { env: { ...process.env, ...options.env } });
    await rm(marker, { force: true });
    say('kafka: stopped');
  }
}

export async function stackStatus(options: StackOptions): Promise<ServiceStatus[]> {
  return Promise.all(
    SERVICE_NAMES.map(async (name) => {
      const address = serviceAddress(portOf(options, name));
      const pid = await runningPid(managedProcess(options, name));
      return { name, address, pid, health: pid === undefined ? 'UNREACHABLE' : await checkHealth(address) };
    }),
  );
}

export const logDir = (options: StackOptions): string => join(options.stateDir, 'logs');

export const logFileOf = (options: StackOptions, name: string): string => join(logDir(options), `${name}.log`);

function managedProcess(options: StackOptions, name: ServiceName): ManagedProcess {
  return { name, pidFile: join(options.stateDir, `${name}.pid`), logFile: logFileOf(options, name) };
}

const portOf = (options: StackOptions, name: ServiceName): number => options.ports?.[name] ?? DefaultPort[name];

const metricsPortOf = (options: StackOptions, name: ServiceName): number =>
  options.metricsPorts?.[name] ?? DefaultMetricsPort[name];

/** Where Prometheus scrapes a service of the stack. */
export const metricsUrlOf = (options: StackOptions, name: ServiceName): string =>
  `http://127.0.0.1:${metricsPortOf(options, name)}/metrics`;

const kafkaMarker = (options: StackOptions): string => join(options.stateDir, 'kafka-started-by-stack');

/**
 * The environment every service starts with: the caller's, the peers' addresses, the dev secrets and,
 * unless an SMTP server is configured, the local mail catcher; unless another payment provider is, the sandbox one.
 */
async function serviceEnv(options: StackOptions): Promise<NodeJS.ProcessEnv> {
  return {
    ...process.env,
    KAFKA_BROKERS: localKafka(options),
    AUTH_JWT_SECRET: await devSecret(options, 'AUTH_JWT_SECRET'),
    SERVICE_AUTH_SECRET: await devSecret(options, 'SERVICE_AUTH_SECRET'),
    ...(options.env.SMTP_HOST
      ? {}
      : { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(mailCatcherPort(options)), NOTIFICATION_CHANNEL: 'email' }),
    ...(usesPaymentSandbox(options) ? await paymentSandboxClientEnv(options) : {}),
    ...options.env,
    BOOKING_ADDR: serviceAddress(portOf(options, 'booking')),
    EVENT_ADDR: serviceAddress(portOf(options, 'event')),
  };
}

/**
 * A secret the stack provisions when the environment does not set it (`variable`): made once per state directory
 * and kept there (owner-only, in a file named after the variable), so that what was signed or stored with it keeps
 * working across restarts: tokens minted by `ticketctl` (AUTH_JWT_SECRET), the services' own tokens
 * (SERVICE_AUTH_SECRET).
 */
export async function devSecret(options: Pick<StackOptions, 'stateDir' | 'env'>, variable: string): Promise<string> {
  const configured = options.env[variable];
  if (configured) return configured;
  const file = devSecretFile(options.stateDir, variable);
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing?.trim()) return existing.trim();
  await mkdir(options.stateDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** The broker scripts/kafka.sh runs (KAFKA_PORT, default 9092). */
const localKafka = (options: StackOptions): string => `127.0.0.1:${options.env.KAFKA_PORT ?? 9092}`;

async function startLocalKafka(options: StackOptions, say: (line: string) => void): Promise<void> {
  const kafka = (command: string) =>
    run('bash', [join(REPO_ROOT, 'scripts/kafka.sh'), command], { env: { ...process.env, ...options.env } });
  const alreadyUp = await kafka('status').then(
    () => true,
    () => false,
  );
  if (alreadyUp) {
    say(`kafka: already running on ${localKafka(options)}`);
    return;
  }
  await kafka('up');
  await writeFile(kafkaMarker(options), '');
  say(`kafka: started on ${localKafka(options)}`);
}

export const mailDir = (options: Pick<StackOptions, 'stateDir'>): string => join(options.stateDir, 'mail');

const mailCatcherPort = (options: StackOptions): number => Number(options.env.MAIL_CATCHER_PORT ?? 1025);

const mailCatcherProcess = (options: StackOptions): ManagedProcess => ({
  name: 'mail-catcher',
  pidFile: join(options.stateDir, 'mail-catcher.pid'),
  logFile: logFileOf(options, 'mail-catcher'),
});

/** The development SMTP server that keeps every email in the state directory (see mail-catcher.ts). */
async function startMailCatcher(options: StackOptions, env: NodeJS.ProcessEnv, say: (line: string) => void) {
  const managed = mailCatcherProcess(options);
  const port = mailCatcherPort(options);
  if ((await runningPid(managed)) === undefined) {
    const pid = await startDetached(
      managed,
      process.execPath,
      [join(import.meta.dirname, 'mail-catcher.ts')],
      { ...env, MAIL_CATCHER_PORT: String(port), MAIL_DIR: mailDir(options) },
      REPO_ROOT,
    );
    await awaitPort(port, () => isAlive(pid));
  }
  say(`mail catcher: smtp://127.0.0.1:${port}, emails kept in ${mailDir(options)}`);
}

/** `make up` pays through the sandbox PSP unless PAYMENT_PROVIDER names another provider (stripe). */
const usesPaymentSandbox = (options: StackOptions): boolean =>
  (options.env.PAYMENT_PROVIDER ?? 'sandbox') === 'sandbox';

const paymentSandboxPort = (options: StackOptions): number =>
  Number(options.env.PAYMENT_SANDBOX_PORT ?? DefaultHttpPort.paymentSandbox);

/** Where the sandbox sends every event: checkout's webhook endpoint, on the port checkout reads. */
const sandboxWebhookUrl = (options: StackOptions): string =>
  options.env.PAYMENT_SANDBOX_WEBHOOK_URL ?? `http://127.0.0.1:${checkoutWebhookPort(options)}/webhooks/sandbox`;

// PAYMENT_WEBHOOK_PORT is checkout's variable; CHECKOUT_WEBHOOK_PORT, the name the payment work was planned with,
// is honoured as well so that neither spelling leaves the sandbox posting to a port nobody listens on.
const checkoutWebhookPort = (options: StackOptions): string =>
  options.env.PAYMENT_WEBHOOK_PORT ?? options.env.CHECKOUT_WEBHOOK_PORT ?? String(DefaultHttpPort.checkoutWebhooks);

const paymentSandboxProcess = (options: StackOptions): ManagedProcess => ({
  name: 'payment-sandbox',
  pidFile: join(options.stateDir, 'payment-sandbox.pid'),
  logFile: logFileOf(options, 'payment-sandbox'),
});

/**
 * What checkout needs to reach the sandbox, and to listen where the sandbox sends webhooks; the two secrets are
 * provisioned once per state directory, like the others, so payments made and webhooks signed before a restart still
 * verify after it.
 */
async function paymentSandboxClientEnv(options: StackOptions): Promise<NodeJS.ProcessEnv> {
  return {
    PAYMENT_PROVIDER: 'sandbox',
    PAYMENT_WEBHOOK_PORT: checkoutWebhookPort(options),
    PAYMENT_SANDBOX_URL: `http://127.0.0.1:${paymentSandboxPort(options)}`,
    PAYMENT_SANDBOX_API_KEY: await devSecret(options, 'PAYMENT_SANDBOX_API_KEY'),
    PAYMENT_SANDBOX_WEBHOOK_SECRET: await devSecret(options, 'PAYMENT_SANDBOX_WEBHOOK_SECRET'),
  };
}

/**
 * The sandbox payment provider (packages/payment-sandbox) as its own process, before the services: checkout creates
 * payments in it from the first order. Its state (payments, pending webhooks) is kept in the state directory, so
 * webhooks checkout has not acknowledged are still sent after a `down` and `up`.
 */
async function startPaymentSandbox(options: StackOptions, say: (line: string) => void): Promise<void> {
  const managed = paymentSandboxProcess(options);
  const port = paymentSandboxPort(options);
  if ((await runningPid(managed)) === undefined) {
    const pid = await startDetached(
      managed,
      process.execPath,
      [join(REPO_ROOT, 'packages/payment-sandbox/src/main.ts')],
      {
        ...process.env,
        PAYMENT_SANDBOX_STATE_FILE: join(options.stateDir, 'payment-sandbox.json'),
        ...options.env,
        PAYMENT_SANDBOX_WEBHOOK_URL: sandboxWebhookUrl(options),
        PAYMENT_SANDBOX_HOST: '127.0.0.1',
        PAYMENT_SANDBOX_PORT: String(port),
        PAYMENT_SANDBOX_API_KEY: await devSecret(options, 'PAYMENT_SANDBOX_API_KEY'),
        PAYMENT_SANDBOX_WEBHOOK_SECRET: await devSecret(options, 'PAYMENT_SANDBOX_WEBHOOK_SECRET'),
      },
      REPO_ROOT,
    );
    try {
      await awaitPort(port, () => isAlive(pid));
    } catch (error) {
      throw new Error(`payment sandbox did not start: ${(error as Error).message}\n${await logTail(managed)}`);
    }
  }
  say(`payment sandbox: http://127.0.0.1:${port}, webhooks to ${sandboxWebhookUrl(options)}`);
}

/**
 * Provisions `name`'s role with its password (<SERVICE>_DB_PASSWORD, else a dev one kept in the state directory, as
 * the embedded PostgreSQL asks every login for one), migrates its schema as that role, and returns the URL the
 * service connects with (see database-roles.ts).
 */
async function migrateAsRole(
  options: StackOptions,
  name: ServiceName,
  env: NodeJS.ProcessEnv,
  say: (line: string) => void,
): Promise<string> {
  const variable = rolePasswordVariable(name);
  const roleEnv = { ...env, [variable]: await devSecret(options, variable) };
  await migrate(name, roleEnv, say);
  return roleDatabaseUrl(name, roleEnv);
}

async function migrate(name: ServiceName, env: NodeJS.ProcessEnv, say: (line: string) => void): Promise<void> {
  const { stdout } = await run(
    process.execPath,
    [join(REPO_ROOT, 'packages/platform/src/cli/migrate.ts'), name, 'src/db/migrations'],
    { cwd: join(REPO_ROOT, 'services', name), env },
  );
  say(stdout.trim());
}
