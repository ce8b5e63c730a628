import { readFileSync } from 'node:fs';
import { localAddress } from '@ticket/contracts/topology';
import { CheckoutServiceDefinition } from '@ticket/contracts/v1/checkout/checkout_service';
import { EventServiceDefinition } from '@ticket/contracts/v1/event/event_service';
import { NotificationServiceDefinition } from '@ticket/contracts/v1/notification/notification_service';
import { createServiceClient, DEFAULT_ROLES_CLAIM, Role, signUserToken } from '@ticket/platform';
import { defaultStateDir, devSecretFile } from '@ticket/stack';
import { Metadata } from 'nice-grpc';
import { UsageError } from './format.ts';

const TOKEN_TTL_SECONDS = 10 * 60;
const DEADLINE_MS = 15_000;
/** Who the box office is when ticketctl acts as an admin for a buyer (`orders mark-paid`). */
const BOX_OFFICE_USER = 'box-office';

export interface SessionIdentity {
  userId: string;
  /** The roles of the session's tokens (`--role`); none: a buyer. */
  roles: readonly string[];
}

/** Clients of the three public services, acting as one user with the roles given. */
export function openSession({ userId, roles }: SessionIdentity, env: NodeJS.ProcessEnv = process.env) {
  const options = { deadlineMs: DEADLINE_MS };
  const clients = {
    event: createServiceClient(EventServiceDefinition, env.EVENT_ADDR ?? localAddress('event'), options),
    checkout: createServiceClient(CheckoutServiceDefinition, env.CHECKOUT_ADDR ?? localAddress('checkout'), options),
    notification: createServiceClient(
      NotificationServiceDefinition,
      env.NOTIFICATION_ADDR ?? localAddress('notification'),
      options,
    ),
  };
  const sign = (subject: string, tokenRoles: readonly string[]) =>
    signUserToken(jwtSecret(env), subject, TOKEN_TTL_SECONDS, {
      roles: tokenRoles,
      rolesClaim: env.AUTH_ROLES_CLAIM ?? DEFAULT_ROLES_CLAIM,
      issuer: env.AUTH_ISSUER,
      audience: env.AUTH_AUDIENCE,
    });
  const bearer = (token: string) => ({ metadata: Metadata({ authorization: `Bearer ${token}` }) });
  return {
    userId,
    event: clients.event.client,
    checkout: clients.checkout.client,
    notification: clients.notification.client,
    /** A bearer token of the session's user: TICKET_TOKEN, else one signed here with the session's roles. */
    async token() {
      return env.TICKET_TOKEN ?? (await sign(userId, roles));
    },
    /** Call options that authenticate as the session's user. */
    async asUser() {
      return bearer(await this.token());
    },
    /**
     * For the catalogue's public reads: the session's credentials when it has any (an organizer then sees its
     * events' owner), none otherwise.
     */
    async asUserIfAny() {
      return hasCredentials(env) ? this.asUser() : {};
    },
    /** The box office acting for the session's buyer: TICKET_ADMIN_TOKEN, else an admin token signed here. */
    async asAdmin() {
      return bearer(env.TICKET_ADMIN_TOKEN ?? (await sign(BOX_OFFICE_USER, [Role.admin])));
    },
    close() {
      for (const { close } of Object.values(clients)) close();
    },
  };
}

export type Session = ReturnType<typeof openSession>;

const hasCredentials = (env: NodeJS.ProcessEnv): boolean =>
  env.TICKET_TOKEN !== undefined || configuredSecret(env) !== undefined;

/**
 * The secret the services verify development tokens with: AUTH_JWT_SECRET, else the one `make up` generated for
 * this checkout. A deployment with an identity provider hands users tokens (TICKET_TOKEN) instead.
 */
function configuredSecret(env: NodeJS.ProcessEnv): string | undefined {
  if (env.AUTH_JWT_SECRET) return env.AUTH_JWT_SECRET;
  try {
    return readFileSync(devSecretFile(defaultStateDir(env), 'AUTH_JWT_SECRET'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function jwtSecret(env: NodeJS.ProcessEnv): string {
  const secret = configuredSecret(env);
  if (secret === undefined) {
    throw new UsageError('no credentials: set TICKET_TOKEN or AUTH_JWT_SECRET, or start the system with `make up`');
  }
  return secret;
}
