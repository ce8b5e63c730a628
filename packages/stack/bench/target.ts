import { readFile } from 'node:fs/promises';
import { CheckoutServiceDefinition } from '@ticket/contracts/v1/checkout/checkout_service';
import { EventServiceDefinition } from '@ticket/contracts/v1/event/event_service';
import { createServiceClient, DEFAULT_ROLES_CLAIM, Role, signUserToken } from '@ticket/platform';
import { devSecretFile, type ServiceStatus, stackStatus } from '@ticket/stack';
import { Metadata } from 'nice-grpc';

/** Refusal to run: the stack is not (fully) up, or its dev secret is missing. Exit 2, not a bench failure. */
export class NotRunnable extends Error {
  override name = 'NotRunnable';
}

/** The running stack's services, each with the pid the bench samples; refuses unless all four are SERVING. */
export async function servingStack(stateDir: string): Promise<ServiceStatus[]> {
  const statuses = await stackStatus({ stateDir, env: process.env });
  const down = statuses.filter((status) => status.health !== 'SERVING' || status.pid === undefined);
  if (down.length > 0) {
    const lines = statuses.map(
      (status) => `  ${status.name.padEnd(13)} ${status.address.padEnd(16)} pid ${status.pid ?? '-'}  ${status.health}`,
    );
    throw new NotRunnable(
      `the stack in ${stateDir} is not serving (${down.map((s) => s.name).join(', ')}): start it with \`make start\`\n${lines.join('\n')}`,
    );
  }
  return statuses;
}

const TOKEN_TTL_SECONDS = 60 * 60;
/** Long enough that a slow call shows up as slow, not as a DEADLINE_EXCEEDED that hides how slow. */
const DEADLINE_MS = 30_000;

/**
 * The clients every buyer shares, and per-user tokens. One channel per service for all buyers: the services
 * authenticate each call by its bearer token, so the user varies per call, and no buyer pays a TCP + HTTP/2
 * handshake that a real client with a warm connection would not.
 */
export async function openTarget(stateDir: string, statuses: readonly ServiceStatus[]) {
  const secret = await jwtSecret(stateDir);
  const addressOf = (name: string) => {
    const status = statuses.find((s) => s.name === name);
    if (!status) throw new NotRunnable(`no ${name} in the stack status`);
    return status.address;
  };
  // No retries: a retried UNAVAILABLE would be a failure hidden inside a longer latency. The bench counts it.
  const options = { deadlineMs: DEADLINE_MS, retries: 0 };
  const event = createServiceClient(EventServiceDefinition, addressOf('event'), options);
  const checkout = createServiceClient(CheckoutServiceDefinition, addressOf('checkout'), options);
  const sign = (userId: string, roles: readonly string[]) =>
    signUserToken(secret, userId, TOKEN_TTL_SECONDS, {
      roles,
      rolesClaim: process.env.AUTH_ROLES_CLAIM ?? DEFAULT_ROLES_CLAIM,
      issuer: process.env.AUTH_ISSUER,
      audience: process.env.AUTH_AUDIENCE,
    });
  return {
    event: event.client,
    checkout: checkout.client,
    /** Call options authenticating as `userId` with `roles` (none: a buyer). */
    async as(userId: string, roles: readonly string[] = []) {
      return { metadata: Metadata({ authorization: `Bearer ${await sign(userId, roles)}` }) };
    },
    /** The box office: an admin, who may mark any buyer's order paid. */
    adminRole: Role.admin,
    close() {
      event.close();
      checkout.close();
    },
  };
}

export type Target = Awaited<ReturnType<typeof openTarget>>;

/**
 * The secret the services verify user tokens with: AUTH_JWT_SECRET, else the one `make start` generated in the
 * state directory. Read, never created (the stack's devSecret would make a new one the services do not know).
 */
async function jwtSecret(stateDir: string): Promise<string> {
  if (process.env.AUTH_JWT_SECRET) return process.env.AUTH_JWT_SECRET;
  const file = devSecretFile(stateDir, 'AUTH_JWT_SECRET');
  const secret = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (!secret) throw new NotRunnable(`no ${file}: start the stack with \`make start\` (or set AUTH_JWT_SECRET)`);
  return secret;
}
