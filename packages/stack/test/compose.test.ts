// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are compose and Dockerfile syntax (${VAR}), not templates
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { bookingConfigShape, loadBookingConfig } from '@ticket/booking/config';
import { checkoutConfigShape, loadCheckoutConfig } from '@ticket/checkout/config';
import { DefaultHttpPort } from '@ticket/contracts/topology';
import { eventConfigShape, loadEventConfig } from '@ticket/event/config';
import { loadNotificationConfig, notificationConfigShape } from '@ticket/notification/config';
import { SERVICE_NODE_FLAGS } from '@ticket/platform/node-flags';
import { describe, expect, it } from 'vitest';
import type { ZodType } from 'zod';
import {
  argsOf,
  type ComposeFile,
  type ComposeService,
  commandWords,
  composeSchemaValidator,
  copiesOf,
  dockerIgnored,
  envOf,
  execForm,
  healthcheckCommand,
  interpolate,
  MissingVariableError,
  parsePort,
  REPO,
  readCompose,
  readDockerfile,
  readDockerignore,
  readEnvFile,
  readRepoFile,
  serviceEnvironment,
  stageNamed,
  substitute,
  variableReferences,
} from './docker-files.ts';

// No Docker engine runs where these tests run, so the Docker files are checked against the code they describe:
// the services' config schemas (variables, defaults, ports), the files their commands run, the migrations, .nvmrc,
// the workspaces, .env.example, the Makefile and the Compose specification's schema.

type ServiceName = 'event' | 'booking' | 'checkout' | 'notification';

const SERVICES: Record<
  ServiceName,
  { shape: Record<string, ZodType>; load: (env: Record<string, string>) => unknown }
> = {
  event: { shape: eventConfigShape, load: loadEventConfig },
  booking: { shape: bookingConfigShape, load: loadBookingConfig },
  checkout: { shape: checkoutConfigShape, load: loadCheckoutConfig },
  notification: { shape: notificationConfigShape, load: loadNotificationConfig },
};
const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[];

/** Variables a service may get that are not in its config schema: read by Node itself. */
const NODE_VARIABLES = new Set(['NODE_ENV', 'NODE_OPTIONS']);

/** Where the repository sits in the images (Dockerfile WORKDIR /app, and the dev mounts). */
const APP = '/app';

const defaultPort = (name: ServiceName): number => SERVICES[name].shape.GRPC_PORT?.parse(undefined) as number;

const requiredKeys = (shape: Record<string, ZodType>): string[] =>
  Object.entries(shape)
    .filter(([, schema]) => !schema.safeParse(undefined).success)
    .map(([key]) => key);

/** A path inside the image (absolute, or relative to the working directory) → the file in this repository. */
function repoPathOf(containerPath: string, workingDir: string): string {
  const absolute = posix.resolve(workingDir, containerPath);
  if (!absolute.startsWith(`${APP}/`)) throw new Error(`${containerPath} is outside ${APP}`);
  return join(REPO, absolute.slice(APP.length + 1));
}

const dockerfile = readDockerfile();
const nvmrc = readRepoFile('.nvmrc').trim();
const envExample = readEnvFile('.env.example');
const envExampleValues = Object.fromEntries(envExample.map((entry) => [entry.name, entry.value]));
const validateCompose = composeSchemaValidator();

const FILES = {
  prod: {
    path: 'docker-compose.prod.yml',
    infrastructure: ['postgres', 'kafka', ...SERVICE_NAMES.map((name) => `migrate-${name}`)],
  },
  dev: { path: 'docker-compose.dev.yml', infrastructure: ['postgres', 'kafka', 'mailpit', 'payment-sandbox'] },
} as const;

/**
 * What compose would substitute with an operator's .env made from .env.example: the example's values, with every
 * variable the file requires and the example leaves empty (the secrets, SMTP_HOST) filled in as the operator must,
 * and an identity provider for users' tokens.
 * Made once per file, so that two services reading one secret see the same value.
 */
const operatorVariables = (() => {
  const made = new Map<ComposeFile, Record<string, string>>();
  return (compose: ComposeFile): Record<string, string> => {
    let variables = made.get(compose);
    if (variables === undefined) {
      variables = { ...envExampleValues };
      for (const reference of variableReferences(compose)) {
        if (reference.required && !variables[reference.name]) {
          variables[reference.name] = randomBytes(24).toString('hex');
        }
      }
      // Not required one by one, but the services need one of them (userAuthProblems): the operator's choice here
      // is an identity provider.
      if (!variables.AUTH_JWKS_URL && !variables.AUTH_JWT_SECRET) {
        variables.AUTH_JWKS_URL = 'https://idp.example.com/realms/tickets/protocol/openid-connect/certs';
      }
      made.set(compose, variables);
    }
    return variables;
  };
})();

/** The image's working directory for a service built from the Dockerfile's runtime stage (migration jobs too). */
function runtimeWorkingDir(service: ComposeService): string {
  const args = buildArgs(service);
  const workdir = argsOf(stageNamed(dockerfile, 'runtime'), 'WORKDIR').at(-1);
  if (!workdir) throw new Error('runtime stage has no WORKDIR');
  return substitute(workdir, args);
}

const buildArgs = (service: ComposeService): Record<string, string> =>
  Object.fromEntries(Object.entries(service.build?.args ?? {}).map(([key, value]) => [key, String(value)]));

describe('Dockerfile', () => {
  const runtime = stageNamed(dockerfile, 'runtime');

  it('runs the Node version pinned in .nvmrc, in every stage', () => {
    const nodeImages = dockerfile.map((stage) => stage.from).filter((from) => from.startsWith('node:'));
    expect(nodeImages.length).toBeGreaterThan(0);
    for (const image of nodeImages) expect(image).toMatch(new RegExp(`^node:${nvmrc.replaceAll('.', '\\.')}-`));
    // Every other stage builds on one of those, never on an unpinned image.
    const stageNames = new Set(dockerfile.map((stage) => stage.name));
    for (const stage of dockerfile) expect(stage.from.startsWith('node:') || stageNames.has(stage.from)).toBe(true);
  });

  it('installs with npm install from the lockfile, knowing every workspace manifest', () => {
    const copies = copiesOf(stageNamed(dockerfile, 'manifests'));
    // Each manifest lands where it sits in the repository, so npm sees the same workspace layout.
    for (const copy of copies) {
      for (const source of copy.sources) {
        const folder = posix.dirname(source);
        expect(copy.destination, source).toBe(folder === '.' ? './' : `${folder}/`);
      }
    }
    const workspaceManifests = ['packages', 'services'].flatMap((folder) =>
      readdirSync(join(REPO, folder))
        .filter((name) => existsSync(join(REPO, folder, name, 'package.json')))
        .map((name) => `${folder}/${name}/package.json`),
    );
    // A workspace missing here would make npm resolve a different tree than the lockfile's.
    const copied = copies.flatMap((copy) => copy.sources);
    for (const manifest of ['package.json', 'package-lock.json', ...workspaceManifests]) {
      expect(copied).toContain(manifest);
    }
    const installsOf = (stage: string) =>
      argsOf(stageNamed(dockerfile, stage), 'RUN').filter((run) => run.includes('npm '));
    const installs = ['prod-deps', 'dev', 'build'].flatMap(installsOf);
    expect(installs.length).toBe(3);
    for (const install of installs) {
      expect(install).toMatch(/npm install /);
      expect(install).not.toMatch(/npm ci\b/);
    }
    // What runs gets only production dependencies; the bundler (a dev dependency) stays in the build stage.
    for (const install of [...installsOf('prod-deps'), ...installsOf('dev')]) expect(install).toMatch(/--omit=dev/);
  });

  it('build: bundles the service with the CLI `make build` and `make up` use', () => {
    const build = stageNamed(dockerfile, 'build');
    const makefile = readRepoFile('Makefile');
    const bundler = 'packages/platform/src/cli/bundle.ts';
    expect(makefile).toMatch(new RegExp(`^build:.*## \\S[^\\n]*\\n\\tnode ${bundler}$`, 'm'));
    expect(argsOf(build, 'RUN').at(-1)).toBe(`node ${bundler} "$SERVICE"`);
    expect(existsSync(join(REPO, bundler))).toBe(true);
    // Everything the bundle is made of: the workspaces it imports and the service's sources.
    const sources = copiesOf(build).flatMap((copy) => copy.sources);
    expect(sources).toEqual(
      copiesOf(runtime)
        .filter((copy) => copy.from === undefined)
        .flatMap((copy) => copy.sources)
        .filter((source) => source.endsWith('/src')),
    );
  });

  it("runtime: production mode, non-root, SIGTERM, the port of its build arg, the build stage's bundle as the command", () => {
    expect(envOf(runtime)).toMatchObject({ NODE_ENV: 'production', GRPC_PORT: '${PORT}', SERVICE: '${SERVICE}' });
    expect(argsOf(runtime, 'USER').at(-1)).toBe('node');
    expect(argsOf(runtime, 'STOPSIGNAL')).toEqual(['SIGTERM']);
    expect(argsOf(runtime, 'EXPOSE')).toEqual(['${PORT}']);
    const cmd = execForm(argsOf(runtime, 'CMD').at(-1) as string);
    expect(cmd.slice(0, 1 + SERVICE_NODE_FLAGS.length)).toEqual(['node', ...SERVICE_NODE_FLAGS]);
    const bundles = copiesOf(runtime).filter((copy) => copy.from === 'build');
    expect(bundles).toEqual([
      { from: 'build', sources: ['/app/services/${SERVICE}/dist'], destination: 'services/${SERVICE}/dist' },
    ]);
    for (const name of SERVICE_NAMES) {
      const workdir = substitute(argsOf(runtime, 'WORKDIR').at(-1) as string, { SERVICE: name });
      // Where ticket-bundle writes the service's bundle (services/<name>/dist/main.js), from its src/main.ts.
      expect(repoPathOf(cmd.at(-1) as string, workdir)).toBe(join(REPO, 'services', name, 'dist/main.js'));
      expect(existsSync(join(REPO, 'services', name, 'src/main.ts'))).toBe(true);
    }
  });

  it('runs each service with the Node flags make up and make run use', () => {
    for (const name of SERVICE_NAMES) {
      const manifest = JSON.parse(readRepoFile(`services/${name}/package.json`)) as { scripts: { start: string } };
      expect(manifest.scripts.start).toBe(['node', ...SERVICE_NODE_FLAGS, 'src/main.ts'].join(' '));
    }
  });

  it("runtime: the health check asks the service's grpc.health.v1 through ticket-healthcheck", () => {
    const [healthcheck] = argsOf(runtime, 'HEALTHCHECK');
    expect(healthcheck).toMatch(/--timeout=\d+s/);
    const command = healthcheck?.split(/\bCMD\s+/)[1] ?? '';
    const [node, script, address] = command.split(/\s+/);
    expect(node).toBe('node');
    expect(existsSync(repoPathOf(script as string, APP))).toBe(true);
    expect(script).toBe('/app/packages/platform/src/cli/healthcheck.ts');
    expect(address).toBe('"127.0.0.1:${GRPC_PORT}"');
  });

  it('copies what the service runs, and .dockerignore keeps tests, benches and local state out', () => {
    const ignore = readDockerignore();
    for (const name of SERVICE_NAMES) {
      for (const copy of copiesOf(runtime).filter((entry) => entry.from === undefined)) {
        for (const source of copy.sources.map((path) => substitute(path, { SERVICE: name }))) {
          expect(existsSync(join(REPO, source)), source).toBe(true);
          for (const file of filesUnder(source)) {
            const isTestCode = /\.test\.ts$/.test(file) || file.startsWith('packages/platform/src/testing/');
            expect(dockerIgnored(ignore, file), file).toBe(isTestCode);
          }
        }
      }
      // The service's migrations travel in its src/ (the migration job runs them from the image).
      expect(dockerIgnored(ignore, `services/${name}/src/db/migrations/meta/_journal.json`)).toBe(false);
    }
    for (const path of [
      'services/booking/test/holds.test.ts',
      'services/booking/bench/hold-throughput.ts',
      'services/booking/drizzle.config.ts',
      'packages/platform/test/migrate.test.ts',
      'node_modules/zod/package.json',
      '.env',
      '.data/kafka/kafka.log',
      '.tools/node/bin/node',
      '.git/HEAD',
    ]) {
      expect(dockerIgnored(ignore, path), path).toBe(true);
    }
  });
});

describe.each(Object.entries(FILES))('%s compose file', (kind, { path, infrastructure }) => {
  const compose = readCompose(path);
  const services = compose.services;
  const apps = SERVICE_NAMES.map((name) => [name, services[name] as ComposeService] as const);

  it('follows the Compose specification', () => {
    expect(validateCompose(compose)).toEqual([]);
  });

  it('runs exactly the four services, plus the infrastructure', () => {
    expect(Object.keys(services).sort()).toEqual([...SERVICE_NAMES, ...infrastructure].sort());
  });

  it('pins every image it pulls to an exact version (Kafka the same as scripts/kafka.sh runs)', () => {
    const kafkaVersion = /^kafka_version=(\S+)$/m.exec(readRepoFile('scripts/kafka.sh'))?.[1];
    expect(services.postgres?.image).toMatch(/^postgres:15\.\d+-bookworm$/);
    expect(services.kafka?.image).toBe(`apache/kafka:${kafkaVersion}`);
    if (services.mailpit) expect(services.mailpit.image).toMatch(/^axllent\/mailpit:v\d+\.\d+\.\d+$/);
    for (const [name, service] of Object.entries(services)) {
      if (service.build) continue;
      expect(service.image, name).not.toMatch(/:latest$|^[^:]+$/);
    }
  });

  it.each(SERVICE_NAMES)('%s listens, is reached and is health-checked on its config default GRPC_PORT', (name) => {
    const service = services[name] as ComposeService;
    const port = defaultPort(name);
    // Besides gRPC: the inspector (dev) and checkout's payment webhooks (HTTP).
    const containerPorts = [
      ...(service.ports ?? []).map((entry) => parsePort(entry).container),
      ...(service.expose ?? []).map(Number),
    ].filter((container) => container !== 9229 && container !== DefaultHttpPort.checkoutWebhooks);
    expect(containerPorts).toEqual([port]);
    const published = (service.ports ?? []).map(parsePort).find((entry) => entry.container === port);
    if (published) expect(published.hostPort).toBe(port);
    expect(healthcheckCommand(service)).toBe(`node /app/packages/platform/src/cli/healthcheck.ts 127.0.0.1:${port}`);
    if (service.build?.target === 'runtime') expect(buildArgs(service)).toEqual({ SERVICE: name, PORT: String(port) });
    // The service does not override GRPC_PORT, so the image's port, the config's default and the mapping agree.
    expect(service.environment?.GRPC_PORT).toBeUndefined();
  });

  it.each(SERVICE_NAMES)('%s gets only variables its config reads, and every one it requires', (name) => {
    const environment = Object.keys(services[name]?.environment ?? {});
    const shape = SERVICES[name].shape;
    for (const key of environment) expect(key in shape || NODE_VARIABLES.has(key), `${name}: ${key}`).toBe(true);
    for (const key of requiredKeys(shape)) expect(environment, `${name} requires ${key}`).toContain(key);
  });

  it.each(SERVICE_NAMES)('%s starts with a configuration its config schema accepts', (name) => {
    const variables = kind === 'prod' ? operatorVariables(compose) : {};
    const environment = serviceEnvironment(services[name] as ComposeService, variables);
    expect(() => SERVICES[name].load(environment)).not.toThrow();
    // Its own role, on the compose network's Postgres and Kafka; peers by their compose names and default ports.
    const database = new URL(environment.DATABASE_URL as string);
    expect([database.username, database.hostname, database.port, database.pathname]).toEqual([
      name,
      'postgres',
      '5432',
      '/ticket',
    ]);
    expect(environment.KAFKA_BROKERS).toBe('kafka:9092');
    for (const [key, value] of Object.entries(environment).filter(([key]) => key.endsWith('_ADDR'))) {
      const peer = key.slice(0, -'_ADDR'.length).toLowerCase() as ServiceName;
      expect(value, key).toBe(`${peer}:${defaultPort(peer)}`);
    }
  });

  it('documents every variable it uses in .env.example', () => {
    const documented = new Set(envExample.map((entry) => entry.name));
    for (const reference of variableReferences(compose)) expect(documented, reference.name).toContain(reference.name);
  });

  it('health-checks Postgres with pg_isready and Kafka with a request to the broker', () => {
    expect(healthcheckCommand(services.postgres as ComposeService)).toMatch(/^pg_isready .*--dbname=ticket/);
    expect(healthcheckCommand(services.kafka as ComposeService)).toMatch(
      /\/opt\/kafka\/bin\/kafka-broker-api-versions\.sh --bootstrap-server 127\.0\.0\.1:9092/,
    );
  });

  it.each(SERVICE_NAMES)('%s starts once Postgres, Kafka and the services it calls are healthy', (name) => {
    const service = services[name] as ComposeService;
    const dependsOn = service.depends_on ?? {};
    const peers = Object.keys(service.environment ?? {})
      .filter((key) => key.endsWith('_ADDR'))
      .map((key) => key.slice(0, -'_ADDR'.length).toLowerCase());
    for (const dependency of ['postgres', 'kafka', ...peers]) {
      expect(dependsOn[dependency]?.condition, `${name} → ${dependency}`).toBe('service_healthy');
    }
    for (const dependency of Object.keys(dependsOn)) expect(services[dependency], dependency).toBeDefined();
  });

  it('runs commands that exist in the repository', () => {
    for (const [name, service] of Object.entries(services)) {
      const workingDir =
        service.working_dir ?? (service.build?.target === 'runtime' ? runtimeWorkingDir(service) : APP);
      for (const word of commandWords(service).filter((word) => word.endsWith('.ts'))) {
        expect(existsSync(repoPathOf(word, workingDir)), `${name}: ${word}`).toBe(true);
      }
    }
    for (const [name, service] of apps) {
      const script = /^node (\S+)/.exec(healthcheckCommand(service))?.[1] as string;
      expect(existsSync(repoPathOf(script, APP)), `${name}: ${script}`).toBe(true);
    }
  });

  it('gives Postgres the password of every service role the init script creates', () => {
    const postgres = services.postgres as ComposeService;
    expect(postgres.volumes).toContain('./infra/postgres/init:/docker-entrypoint-initdb.d:ro');
    const script = readRepoFile('infra/postgres/init/10-service-roles.sh');
    expect(statSync(join(REPO, 'infra/postgres/init/10-service-roles.sh')).mode & 0o111).not.toBe(0);
    expect(/^services=\(([^)]*)\)$/m.exec(script)?.[1]?.split(' ').sort()).toEqual([...SERVICE_NAMES].sort());
    for (const name of SERVICE_NAMES) expect(postgres.environment).toHaveProperty(`${name.toUpperCase()}_DB_PASSWORD`);
    expect(postgres.environment?.POSTGRES_DB).toBe('ticket');
  });
});

describe('docker-compose.prod.yml', () => {
  const compose = readCompose(FILES.prod.path);
  const services = compose.services;

  it.each(SERVICE_NAMES)("migrates %s's schema, as its own role, before it starts", (name) => {
    const job = services[`migrate-${name}`] as ComposeService;
    const service = services[name] as ComposeService;
    expect(service.depends_on?.[`migrate-${name}`]?.condition).toBe('service_completed_successfully');
    expect(job.depends_on?.postgres?.condition).toBe('service_healthy');
    expect(job.restart).toBe('no');
    // The same image as the service, so the migrations are the ones the service was built with.
    expect(job.image).toBe(service.image);
    expect(job.build).toEqual(service.build);

    const [node, cli, schema, folder, ...rest] = commandWords(job);
    const workingDir = runtimeWorkingDir(job);
    expect([node, repoPathOf(cli as string, workingDir), schema, rest]).toEqual([
      'node',
      join(REPO, 'packages/platform/src/cli/migrate.ts'),
      name,
      [],
    ]);
    expect(repoPathOf(folder as string, workingDir)).toBe(join(REPO, 'services', name, 'src/db/migrations'));
    const environment = serviceEnvironment(job, operatorVariables(compose));
    expect(new URL(environment.DATABASE_URL as string).username).toBe(name);
    expect(environment.DATABASE_URL).toBe(serviceEnvironment(service, operatorVariables(compose)).DATABASE_URL);
  });

  it("covers every service's migrations folder in the repository", () => {
    const withMigrations = readdirSync(join(REPO, 'services')).filter((name) =>
      existsSync(join(REPO, 'services', name, 'src/db/migrations/meta/_journal.json')),
    );
    expect(withMigrations.sort()).toEqual([...SERVICE_NAMES].sort());
    for (const name of withMigrations) expect(services[`migrate-${name}`], name).toBeDefined();
  });

  it('builds each service from the Dockerfile runtime stage', () => {
    for (const name of SERVICE_NAMES) {
      expect(services[name]?.build).toMatchObject({ context: '.', target: 'runtime' });
      expect(services[name]?.image).toBe(`\${IMAGE_REPOSITORY:-ticket}/${name}:\${IMAGE_TAG:-local}`);
    }
  });

  it('restarts what runs unless stopped, and mounts no source code', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.restart, name).toBe(name.startsWith('migrate-') ? 'no' : 'unless-stopped');
      const bindMounts = (service.volumes ?? []).filter((volume) => /^[./~]/.test(volume));
      const allowed = name === 'postgres' ? ['./infra/postgres/init:/docker-entrypoint-initdb.d:ro'] : [];
      expect(bindMounts, name).toEqual(allowed);
    }
  });

  it('refuses to start with the example .env: its secrets are empty and required', () => {
    const required = new Set(
      variableReferences(compose)
        .filter((reference) => reference.required)
        .map((r) => r.name),
    );
    for (const secret of [
      'POSTGRES_PASSWORD',
      'EVENT_DB_PASSWORD',
      'BOOKING_DB_PASSWORD',
      'CHECKOUT_DB_PASSWORD',
      'NOTIFICATION_DB_PASSWORD',
      'SERVICE_AUTH_SECRET',
      'STRIPE_SECRET_KEY',
      'STRIPE_WEBHOOK_SECRET',
      'SMTP_HOST',
    ]) {
      expect(required, secret).toContain(secret);
      expect(envExampleValues[secret], secret).toBe('');
    }
    for (const name of SERVICE_NAMES) {
      expect(() => serviceEnvironment(services[name] as ComposeService, envExampleValues)).toThrow(
        MissingVariableError,
      );
    }
  });

  it('sends email through the SMTP server of .env, over STARTTLS unless told otherwise', () => {
    const environment = serviceEnvironment(services.notification as ComposeService, operatorVariables(compose));
    expect(environment).toMatchObject({ NOTIFICATION_CHANNEL: 'email', SMTP_REQUIRE_TLS: 'true', SMTP_PORT: '587' });
    expect(environment.SMTP_HOST).not.toBe('');
  });
});

describe('docker-compose.dev.yml', () => {
  const compose = readCompose(FILES.dev.path);
  const services = compose.services;
  const apps = SERVICE_NAMES.map((name) => [name, services[name] as ComposeService] as const);

  it('needs no .env: every variable has a development default', () => {
    for (const reference of variableReferences(compose)) {
      expect(reference.required, reference.name).toBe(false);
      expect(reference.fallback, reference.name).toBeDefined();
    }
  });

  it('mounts the sources over the dev image and runs each service under node --watch', () => {
    const dev = stageNamed(dockerfile, 'dev');
    expect(copiesOf(dev).filter((copy) => copy.sources.some((source) => source.endsWith('/src')))).toEqual([]);
    for (const [name, service] of apps) {
      expect(service.build, name).toEqual({ context: '.', target: 'dev' });
      expect(service.volumes, name).toEqual(['./packages:/app/packages:ro', './services:/app/services:ro']);
      const command = commandWords(service);
      expect(command.slice(0, 2), name).toEqual(['node', '--watch']);
      expect(command.at(-1), name).toBe(`/app/services/${name}/src/main.ts`);
      expect(service.environment?.MIGRATE_ON_START, name).toBe('true');
    }
  });

  it("publishes each service's Node inspector on its own host port, 9230 to 9233, on 127.0.0.1 only", () => {
    const inspectorPorts = apps.map(([name, service]) => {
      expect(commandWords(service), name).toContain('--inspect=0.0.0.0:9229');
      const inspector = (service.ports ?? []).map(parsePort).filter((entry) => entry.container === 9229);
      expect(inspector, name).toHaveLength(1);
      return inspector[0]?.hostPort;
    });
    expect([...inspectorPorts].sort()).toEqual([9230, 9231, 9232, 9233]);
    for (const service of Object.values(services)) {
      for (const entry of (service.ports ?? []).map(parsePort)) expect(entry.host).toBe('127.0.0.1');
    }
  });

  it("sends notification's email to the mail catcher, whose web UI is published", () => {
    const environment = serviceEnvironment(services.notification as ComposeService, {});
    expect(environment).toMatchObject({ NOTIFICATION_CHANNEL: 'email', SMTP_HOST: 'mailpit', SMTP_PORT: '1025' });
    expect(services.notification?.depends_on?.mailpit).toBeDefined();
    expect((services.mailpit?.ports ?? []).map(parsePort).map((entry) => entry.container)).toContain(8025);
  });

  it('runs Postgres and Kafka as production does, under another project name (own volumes)', () => {
    const prod = readCompose(FILES.prod.path);
    for (const name of ['postgres', 'kafka']) {
      expect(services[name]?.image).toBe(prod.services[name]?.image);
      expect(healthcheckCommand(services[name] as ComposeService)).toBe(
        healthcheckCommand(prod.services[name] as ComposeService),
      );
    }
    const keys = (service: ComposeService | undefined) => Object.keys(service?.environment ?? {}).sort();
    expect(keys(services.postgres)).toEqual(keys(prod.services.postgres));
    expect(keys(services.kafka)).toEqual(keys(prod.services.kafka));
    expect([compose.name, prod.name]).toEqual(['ticket-dev', 'ticket']);
  });
});

describe('.env.example', () => {
  it('documents every variable with a comment, and each is used by a compose file', () => {
    const used = new Set(
      Object.values(FILES).flatMap(({ path }) =>
        variableReferences(readCompose(path)).map((reference) => reference.name),
      ),
    );
    for (const entry of envExample) {
      expect(entry.comment.length, `${entry.name} has no comment above it`).toBeGreaterThan(0);
      expect(used, `${entry.name} is not used`).toContain(entry.name);
    }
  });
});

describe('Makefile', () => {
  const makefile = readRepoFile('Makefile');

  it('has the compose targets, each with a help line', () => {
    for (const target of ['compose-up', 'compose-down', 'compose-dev', 'compose-logs', 'compose-config']) {
      expect(makefile).toMatch(new RegExp(`^${target}:.*## \\S`, 'm'));
    }
  });

  it("compose-config's stand-ins give every variable docker-compose.prod.yml requires", () => {
    const block = /^COMPOSE_CHECK_ENV := ((?:.*\\\n)*.*)$/m.exec(makefile)?.[1] ?? '';
    const standIns = Object.fromEntries(
      [...block.replaceAll('\\\n', ' ').matchAll(/([A-Z_]+)=(\S+)/g)].map((match) => [match[1], match[2]]),
    );
    const compose = readCompose(FILES.prod.path);
    const variables = { ...envExampleValues, ...standIns };
    for (const reference of variableReferences(compose)) {
      if (reference.required) expect(standIns, reference.name).toHaveProperty(reference.name);
    }
    for (const name of SERVICE_NAMES) {
      const environment = serviceEnvironment(compose.services[name] as ComposeService, variables);
      expect(() => SERVICES[name].load(environment), name).not.toThrow();
    }
  });
});

/** Files under a path of the repository (the path itself when it is a file), relative to the repository. */
function filesUnder(path: string): string[] {
  const absolute = join(REPO, path);
  if (!statSync(absolute).isDirectory()) return [path];
  return readdirSync(absolute, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => posix.join(posix.relative(REPO, entry.parentPath), entry.name));
}

// Keeps `interpolate` honest: the substitution rules the tests above rely on, against compose's documented ones.
describe('compose variable substitution (test helper)', () => {
  it.each([
    ['${A}', { A: 'x' }, 'x'],
    ['${A:-d}', {}, 'd'],
    ['${A:-d}', { A: '' }, 'd'],
    ['${A-d}', { A: '' }, ''],
    ['${A:--Xms1g -Xmx2g}', {}, '-Xms1g -Xmx2g'],
    ['$$A', { A: 'x' }, '$A'],
    ['a $A b', { A: 'x' }, 'a x b'],
    ['${A:+set}', { A: 'x' }, 'set'],
  ] as const)('%s with %j is %s', (text, variables, expected) => {
    expect(interpolate(text, variables)).toBe(expected);
  });

  it('throws for a required variable that is unset or empty', () => {
    expect(() => interpolate('${A:?give A}', { A: '' })).toThrow('A: give A');
    expect(() => interpolate('${A?give A}', {})).toThrow(MissingVariableError);
    expect(interpolate('${A?give A}', { A: '' })).toBe('');
  });
});
