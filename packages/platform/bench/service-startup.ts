/**
 * `make bench-startup`: each service's process as `make up` and the Docker image run it (its bundle, ticket-bundle)
 * against the same service run from its .ts sources: milliseconds from spawn to health SERVING, and resident memory
 * once idle (IDLE_MS after the last one serves). The four start one after another in the stack's order (checkout
 * calls event and booking), against Postgres (DATABASE_URL, default the local server; a fresh database, and roles
 * behind their own TICKET_ROLE_PREFIX so a running stack's roles keep their passwords) and Kafka (KAFKA_BROKERS, else
 * a broker of its own), on free ports, with topics of their own. BENCH_RUNS rounds, alternating;
 * prints the medians, the ratios, and PASS/FAIL against the targets of the "lean processes" issue.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createChannel, createClient } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import { HealthCheckResponse_ServingStatus as ServingStatus } from 'nice-grpc-server-health/lib/proto/grpc/health/v1/health.js';
import postgres from 'postgres';
import { z } from 'zod';
import { bundleService } from '../src/cli/bundle.ts';
import { env, loadConfig } from '../src/config.ts';
import { maintenanceUrl, quoteIdentifier } from '../src/db/migrate.ts';
import { SERVICE_NODE_FLAGS } from '../src/node-flags.ts';
import { type KafkaBroker, startKafkaBroker } from '../src/testing/broker.ts';
import { createTestDatabase, testServerUrl } from '../src/testing/database.ts';
import { freePort } from '../src/testing/ports.ts';

const run = promisify(execFile);
const { BENCH_RUNS, IDLE_MS, KAFKA_BROKERS } = loadConfig({
  BENCH_RUNS: env.positiveInt(5),
  IDLE_MS: env.positiveInt(5_000),
  /** A running broker to use; unset, the bench starts one of its own and stops it at the end. */
  KAFKA_BROKERS: z.string().optional(),
});

/** The targets, per service process. */
const TARGET_RSS_MIB = 90;
const TARGET_READY_MS = 1_500;
const READY_TIMEOUT_MS = 30_000;

const REPO = join(import.meta.dirname, '../../..');
const PLATFORM_CLI = join(REPO, 'packages/platform/src/cli');
/** The stack's order: each one's peers are serving before it starts. */
const SERVICES = ['booking', 'event', 'checkout', 'notification'] as const;
type Service = (typeof SERVICES)[number];
const VARIANTS = { sources: 'src/main.ts', bundle: 'dist/main.js' } as const;
type Variant = keyof typeof VARIANTS;

interface Sample {
  readyMs: number;
  rssMiB: number;
  rssAnonMiB: number;
  rssFileMiB: number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

/** VmRSS and its anonymous and file-backed parts, from /proc (what the kernel charges the process). */
async function residentMemory(pid: number): Promise<Omit<Sample, 'readyMs'>> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMiB: kib('VmRSS') / 1024, rssAnonMiB: kib('RssAnon') / 1024, rssFileMiB: kib('RssFile') / 1024 };
}

async function isServing(address: string): Promise<boolean> {
  const channel = createChannel(address);
  try {
    const { status } = await createClient(HealthDefinition, channel).check(
      { service: '' },
      { signal: AbortSignal.timeout(1_000) },
    );
    return status === ServingStatus.SERVING;
  } catch {
    return false;
  } finally {
    channel.close();
  }
}

/** Polls often, so that the ready time is the service's, not the poll interval's. */
async function awaitServing(address: string, exited: () => boolean): Promise<void> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  while (!(await isServing(address))) {
    if (exited()) throw new Error(`the process serving ${address} exited`);
    if (performance.now() > deadline) throw new Error(`${address} not serving after ${READY_TIMEOUT_MS} ms`);
    await sleep(20);
  }
}

/** Migrates each service's schema as its own role (ticket-migrate), and returns the URL each connects with. */
async function provision(databaseUrl: string, roleEnv: NodeJS.ProcessEnv): Promise<Record<Service, string>> {
  const urls = {} as Record<Service, string>;
  for (const service of SERVICES) {
    const environment = { ...process.env, ...roleEnv, DATABASE_URL: databaseUrl };
    await run(process.execPath, [join(PLATFORM_CLI, 'migrate.ts'), service, 'src/db/migrations'], {
      cwd: join(REPO, 'services', service),
      env: environment,
    });
    const { stdout } = await run(process.execPath, [join(PLATFORM_CLI, 'database-url.ts'), service], {
      env: environment,
    });
    urls[service] = stdout.trim();
  }
  return urls;
}

interface Round {
  variant: Variant;
  ports: Record<Service, number>;
  environment: (service: Service) => NodeJS.ProcessEnv;
  logDir: string;
}

/** Starts the four in order, each awaited serving; waits IDLE_MS; reads their memory; stops them. */
async function measureRound({ variant, ports, environment, logDir }: Round): Promise<Record<Service, Sample>> {
  const children: { service: Service; pid: number; exited: boolean; kill(): void }[] = [];
  const samples = {} as Record<Service, Sample>;
  try {
    for (const service of SERVICES) {
      const log = openSync(join(logDir, `${service}-${variant}.log`), 'a');
      const started = performance.now();
      const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, VARIANTS[variant]], {
        cwd: join(REPO, 'services', service),
        env: environment(service),
        stdio: ['ignore', log, log],
      });
      closeSync(log);
      const entry = { service, pid: child.pid as number, exited: false, kill: () => child.kill('SIGTERM') };
      child.once('exit', () => {
        entry.exited = true;
      });
      children.push(entry);
      await awaitServing(`127.0.0.1:${ports[service]}`, () => entry.exited);
      samples[service] = { readyMs: performance.now() - started, rssMiB: 0, rssAnonMiB: 0, rssFileMiB: 0 };
    }
    await sleep(IDLE_MS);
    for (const { service, pid } of children) Object.assign(samples[service], await residentMemory(pid));
    return samples;
  } finally {
    await stopAll(children);
  }
}

async function stopAll(children: { exited: boolean; kill(): void }[]): Promise<void> {
  for (const child of children.reverse()) {
    if (!child.exited) child.kill();
  }
  while (children.some((child) => !child.exited)) await sleep(50);
}

/** Roles belong to the whole server, not to the database dropped after the run: drop this run's too. */
async function dropRoles(prefix: string): Promise<void> {
  const sql = postgres(maintenanceUrl(testServerUrl()), { max: 1, onnotice: () => {} });
  try {
    for (const service of SERVICES) await sql.unsafe(`drop role if exists ${quoteIdentifier(prefix + service)}`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

const broker: KafkaBroker | undefined = KAFKA_BROKERS ? undefined : await startKafkaBroker();
const brokers = broker?.brokers.join(',') ?? KAFKA_BROKERS ?? '';
const stateDir = await mkdtemp(join(tmpdir(), 'bench-startup-'));
const database = await createTestDatabase('bench_startup');
const suffix = randomBytes(4).toString('hex');
const rolePrefix = `bench_startup_${suffix}_`;
try {
  for (const service of SERVICES) await bundleService(service);
  const secret = () => randomBytes(32).toString('hex');
  const roleEnv: NodeJS.ProcessEnv = {
    TICKET_ROLE_PREFIX: rolePrefix,
    ...Object.fromEntries(SERVICES.map((service) => [`${service.toUpperCase()}_DB_PASSWORD`, secret()])),
  };
  const databaseUrls = await provision(database.url, roleEnv);
  const ports = Object.fromEntries(await Promise.all(SERVICES.map(async (s) => [s, await freePort()]))) as Record<
    Service,
    number
  >;
  const shared: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    // Flags to try on both variants, e.g. BENCH_NODE_OPTIONS='--max-old-space-size=64'.
    NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS,
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    KAFKA_BROKERS: brokers,
    AUTH_JWT_SECRET: secret(),
    SERVICE_AUTH_SECRET: secret(),
    EVENT_ADDR: `127.0.0.1:${ports.event}`,
    BOOKING_ADDR: `127.0.0.1:${ports.booking}`,
    ORDER_EVENTS_TOPIC: `bench.startup.${suffix}.order-events`,
    BOOKING_EVENTS_TOPIC: `bench.startup.${suffix}.bookings-expired`,
    BOOKING_EVENTS_GROUP: `bench.startup.${suffix}.checkout`,
    KAFKA_GROUP_ID: `bench.startup.${suffix}.notification`,
    NOTIFICATION_CHANNEL: 'log',
    PAYMENT_WEBHOOK_PORT: String(await freePort()),
    PAYMENT_SANDBOX_API_KEY: secret(),
    PAYMENT_SANDBOX_WEBHOOK_SECRET: secret(),
  };
  const environment = (service: Service): NodeJS.ProcessEnv => ({
    ...shared,
    DATABASE_URL: databaseUrls[service],
    GRPC_PORT: String(ports[service]),
  });

  const rounds: Record<Variant, Record<Service, Sample>[]> = { sources: [], bundle: [] };
  for (let i = 0; i < BENCH_RUNS; i += 1) {
    for (const variant of Object.keys(VARIANTS) as Variant[]) {
      rounds[variant].push(await measureRound({ variant, ports, environment, logDir: stateDir }));
    }
  }
  report(rounds);
} finally {
  await database.drop();
  await dropRoles(rolePrefix);
  await rm(stateDir, { recursive: true, force: true });
  await broker?.destroy();
}

function report(rounds: Record<Variant, Record<Service, Sample>[]>): void {
  const summary = (variant: Variant, service: Service): Sample => {
    const list = rounds[variant].map((round) => round[service]);
    return {
      readyMs: median(list.map((s) => s.readyMs)),
      rssMiB: median(list.map((s) => s.rssMiB)),
      rssAnonMiB: median(list.map((s) => s.rssAnonMiB)),
      rssFileMiB: median(list.map((s) => s.rssFileMiB)),
    };
  };
  const describe = (s: Sample) =>
    `${s.readyMs.toFixed(0).padStart(5)} ms  ${s.rssMiB.toFixed(0).padStart(4)} MiB ` +
    `(anon ${s.rssAnonMiB.toFixed(0)}, file ${s.rssFileMiB.toFixed(0)})`;
  console.log(
    `services from spawn to SERVING, and RSS ${IDLE_MS / 1000} s after the last serves (${process.version}, ` +
      `${SERVICE_NODE_FLAGS.join(' ')}); median of ${BENCH_RUNS} runs each`,
  );
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  let pass = true;
  for (const service of SERVICES) {
    const sources = summary('sources', service);
    const bundle = summary('bundle', service);
    const lean = bundle.rssMiB <= TARGET_RSS_MIB;
    const quick = bundle.readyMs <= TARGET_READY_MS;
    pass &&= lean && quick;
    console.log(`  ${service}`);
    console.log(`    sources: ${describe(sources)}`);
    console.log(`    bundle:  ${describe(bundle)}  memory ${verdict(lean)}, ready ${verdict(quick)}`);
    console.log(
      `    ratio:   ${(sources.readyMs / bundle.readyMs).toFixed(1)}× faster, ` +
        `${(sources.rssMiB / bundle.rssMiB).toFixed(2)}× less memory`,
    );
  }
  console.log(
    `bundles against the targets (≤ ${TARGET_RSS_MIB} MiB idle, ≤ ${TARGET_READY_MS} ms to serve): ${verdict(pass)}`,
  );
}
