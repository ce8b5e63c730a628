import { Metadata } from 'nice-grpc-common';
import { Role } from '../auth/caller.ts';
import { createServiceTokenSource } from '../auth/service-tokens.ts';
import { signUserToken, type UserTokenClaims } from '../auth/user-tokens.ts';

/** Call options that carry `token` as the caller's bearer token. */
export const bearer = (token: string) => ({ metadata: Metadata({ authorization: `Bearer ${token}` }) });

export interface TestCallers {
  /** A development token of `userId` with `roles` (none: a buyer), valid an hour. */
  token(userId: string, roles?: readonly string[]): Promise<string>;
  /** Call options acting as `userId` with `roles`. */
  as(userId: string, roles?: readonly string[]): Promise<{ metadata: Metadata }>;
}

/** Users' tokens signed with the services' AUTH_JWT_SECRET, as ticketctl signs them. */
export function testCallers(secret: string, claims: Omit<UserTokenClaims, 'roles'> = {}): TestCallers {
  const token = (userId: string, roles: readonly string[] = []) =>
    signUserToken(secret, userId, 3_600, { ...claims, roles });
  return { token, as: async (userId, roles) => bearer(await token(userId, roles)) };
}

/** Call options of `service` calling `audience` (booking), as the services' own clients send them. */
export async function asService(secret: string, service: string, audience = 'booking') {
  return bearer(await createServiceTokenSource({ secret, service, audience })());
}

/** The users a role matrix calls as, with fixed ids: two buyers, two organizers, a scanner and an admin. */
export const TEST_USERS = {
  buyer: { id: 'buyer-1', roles: [] },
  otherBuyer: { id: 'buyer-2', roles: [] },
  organizer: { id: 'organizer-1', roles: [Role.organizer] },
  otherOrganizer: { id: 'organizer-2', roles: [Role.organizer] },
  scanner: { id: 'scanner-1', roles: [Role.scanner] },
  admin: { id: 'admin-1', roles: [Role.admin] },
} as const satisfies Record<string, { id: string; roles: readonly Role[] }>;

export type TestUser = keyof typeof TEST_USERS;

export interface TestToken {
  /** The user's id, the token's `sub`. */
  id: string;
  token: string;
  /** Call options carrying the token. */
  call: { metadata: Metadata };
}

/** A token (valid an hour) and its call options for each of TEST_USERS, signed as testCallers signs them. */
export async function testTokens(
  secret: string,
  claims: Omit<UserTokenClaims, 'roles'> = {},
): Promise<Record<TestUser, TestToken>> {
  const callers = testCallers(secret, claims);
  const entries = await Promise.all(
    Object.entries(TEST_USERS).map(async ([name, { id, roles }]) => {
      const token = await callers.token(id, roles);
      return [name, { id, token, call: bearer(token) }] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<TestUser, TestToken>;
}
