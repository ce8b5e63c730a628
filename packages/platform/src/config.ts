import { validate as isValidCron } from 'node-cron';
import { z } from 'zod';
import { MIN_SECRET_LENGTH } from './auth/tokens.ts';

/**
 * Config is read from the environment once, at start-up, through one zod schema per service.
 * Every bad or missing variable is reported in one message so an operator fixes them all at once.
 */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type EnvShape = Record<string, z.ZodType>;

export function loadConfig<Shape extends EnvShape>(
  shape: Shape,
  env: Record<string, string | undefined> = process.env,
): z.infer<z.ZodObject<Shape>> {
  // reportInput tells a missing variable from a wrong one; values never reach the message (they may be secrets).
  const result = z.object(shape).safeParse(withoutEmptyValues(env), { reportInput: true });
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map(describeIssue));
}

/** `FOO=` in a .env file means "not set": let the default apply instead of failing validation. */
function withoutEmptyValues(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''),
  );
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const variable = issue.path.join('.');
  return issue.code === 'invalid_type' && issue.input === undefined
    ? `${variable}: required but not set`
    : `${variable}: ${issue.message}`;
}

/** Reusable variable types; each service composes its schema from these. */
export const env = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback),
  positiveInt: (fallback: number) => z.coerce.number().int().positive().default(fallback),
  boolean: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0'])
      .default(fallback ? 'true' : 'false')
      .transform((value) => value === 'true' || value === '1'),
  url: (fallback?: string) => (fallback === undefined ? z.url() : z.url().default(fallback)),
  /** Comma-separated list, e.g. `KAFKA_BROKERS=host1:9092,host2:9092`. */
  list: (fallback: string) =>
    z
      .string()
      .default(fallback)
      .transform((value) =>
        value
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item.length > 0),
      )
      .pipe(z.array(z.string()).min(1)),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `host:port` of a peer service (`[::1]:50610` for IPv6). */
  address: (fallback: string) =>
    z
      .string()
      .default(fallback)
      .refine((value) => /^[^\s:]+:\d{1,5}$/.test(value) || /^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(value), {
        error: 'must be host:port',
      }),
  /** A node-cron expression with seconds, e.g. `*\/10 * * * * *` (see scheduleJob). */
  cron: (fallback: string) =>
    z
      .string()
      .default(fallback)
      .refine((expression) => isValidCron(expression), 'must be a cron expression, e.g. */30 * * * * *'),
  /** An HS256 secret: at least 32 characters, no default. */
  jwtSecret: () => z.string().min(MIN_SECRET_LENGTH, { error: `must be at least ${MIN_SECRET_LENGTH} characters` }),
};

/** The variables every service shares: where it listens, where Postgres and Kafka are, and how to log. */
export const commonConfig = {
  /** The interface the gRPC server binds; GRPC_PORT is each service's own. */
  GRPC_HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: env.url('postgres://postgres@127.0.0.1:5432/ticket'),
  DATABASE_POOL_SIZE: env.positiveInt(10),
  KAFKA_BROKERS: env.list('127.0.0.1:9092'),
  LOG_LEVEL: env.logLevel(),
  LOG_PRETTY: env.boolean(false),
  /** Apply this service's migrations before serving (off in production, where a migration job runs first). */
  MIGRATE_ON_START: env.boolean(false),
  /** The port of the Prometheus endpoint (`GET /metrics`); unset, the service serves none. `make up` sets it. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  /** The interface the metrics endpoint binds. */
  METRICS_HOST: z.string().min(1).default('0.0.0.0'),
  /** How often readiness (grpc.health.v1) checks the dependencies the service cannot serve without. */
  HEALTH_CHECK_INTERVAL_MS: env.positiveInt(2_000),
  /** Longest wait for one dependency's answer in a check; no answer by then reads as unreachable. */
  HEALTH_CHECK_TIMEOUT_MS: env.positiveInt(2_000),
};

/** The variables every service reads, as parsed. */
export type CommonConfig = z.infer<z.ZodObject<typeof commonConfig>>;

/**
 * How a service that users call verifies their tokens (see createUserTokenVerifier): the development HS256 secret,
 * an identity provider's JWKS, or both; at least one must be set.
 */
export const userAuthConfig = {
  /** HS256 secret of development tokens (`make up`, ticketctl). Leave unset in production. */
  AUTH_JWT_SECRET: env.jwtSecret().optional(),
  /** The identity provider's JSON Web Key Set (RS256, ES256), e.g. Keycloak's …/protocol/openid-connect/certs. */
  AUTH_JWKS_URL: z.url().optional(),
  /** When set, every token's `iss` must equal it. */
  AUTH_ISSUER: z.string().min(1).optional(),
  /** When set, every token's `aud` must contain it. */
  AUTH_AUDIENCE: z.string().min(1).optional(),
  /** Claim with the caller's roles; a dotted path for a nested one (Keycloak: realm_access.roles). */
  AUTH_ROLES_CLAIM: z.string().min(1).default('roles'),
  /** Longest wait for the JWKS; a call that needs it fails UNAVAILABLE after that. */
  AUTH_JWKS_TIMEOUT_MS: env.positiveInt(2_000),
  /** A token with an unknown key id refetches the JWKS at most this often. */
  AUTH_JWKS_COOLDOWN_MS: z.coerce.number().int().min(0).default(30_000),
  /** Keys older than this are fetched again. */
  AUTH_JWKS_CACHE_MAX_AGE_MS: env.positiveInt(600_000),
};

export type UserAuthConfig = z.infer<z.ZodObject<typeof userAuthConfig>>;

/** What is wrong with the AUTH_* variables together (the schema checked each one alone). */
export function userAuthProblems(config: Pick<UserAuthConfig, 'AUTH_JWT_SECRET' | 'AUTH_JWKS_URL'>): string[] {
  return config.AUTH_JWT_SECRET === undefined && config.AUTH_JWKS_URL === undefined
    ? ['AUTH_JWT_SECRET or AUTH_JWKS_URL: set at least one, or no token can be verified']
    : [];
}

/** The key the services sign their tokens to each other with (booking accepts only those). */
export const serviceAuthConfig = {
  SERVICE_AUTH_SECRET: env.jwtSecret(),
};
