import { readFileSync } from 'node:fs';
import { localAddress } from '@ticket/contracts/topology';
import { CheckoutServiceDefinition } from '@ticket/contracts/v1/checkout/checkout_service';
import { EventServiceDefinition } from '@ticket/contracts/v1/event/event_service';
import { NotificationServiceDefinition } from '@ticket/contracts/v1/notification/notification_service';
import { createServiceClient, signUserToken } from '@ticket/platform';
import { defaultStateDir, devSecretFile } from '@ticket/stack';
import { Metadata } from 'nice-grpc';
import { UsageError } from './format.ts';

const TOKEN_TTL_SECONDS = 10 * 60;
const DEADLINE_MS = 15_000;

/** Clients of the three public services, acting as one user. */
export function openSession(userId: string, env: NodeJS.ProcessEnv = process.env) {
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
  return {
    userId,
    event: clients.event.client,
    checkout: clients.checkout.client,
    notification: clients.notification.client,
    /** A bearer token of the session's user: TICKET_TOKEN, else one signed here. */
    async token() {
      return env.TICKET_TOKEN ?? (await signUserToken(jwtSecret(env), userId, TOKEN_TTL_SECONDS));
    },
    /** Call options that authenticate as the session's user. */
    async asUser() {
      return { metadata: Metadata({ authorization: `Bearer ${await this.token()}` }) };
    },
    close() {
      for (const { close } of Object.values(clients)) close();
    },
  };
}

export type Session = ReturnType<typeof openSession>;

/**
 * The secret the services verify tokens with: AUTH_JWT_SECRET, else the one `make up` generated for
 * this checkout. A real deployment hands users tokens (TICKET_TOKEN) instead.
 */
function jwtSecret(env: NodeJS.ProcessEnv): string {
  if (env.AUTH_JWT_SECRET) return env.AUTH_JWT_SECRET;
  try {
    return readFileSync(devSecretFile(defaultStateDir(env)), 'utf8').trim();
  } catch {
    throw new UsageError('no credentials: set TICKET_TOKEN or AUTH_JWT_SECRET, or start the system with `make up`');
  }
}
