import { DomainError } from '../errors.ts';

// Who is calling, and what that caller may do: framework-free, so app and domain code can import it.

/** The roles a user token may carry (DESIGN.md, trust model). Any authenticated user is a buyer. */
export const Role = {
  /** Creates and runs events; owns the events it created. */
  organizer: 'organizer',
  /** Checks tickets in at the entrance. */
  scanner: 'scanner',
  /** May do anything any user may, for any user. */
  admin: 'admin',
} as const;
export type Role = (typeof Role)[keyof typeof Role];

/**
 * The verified caller of a gRPC call: a user (an identity provider's or the development token's `sub`), another
 * service of this system (a service token's `sub`, e.g. `checkout`), or nobody, on a public RPC called without a
 * token.
 */
export interface Caller {
  kind: 'anonymous' | 'user' | 'service';
  /** The token's subject; empty for an anonymous caller. */
  id: string;
  /** A user's roles from the token's roles claim; empty for services and anonymous callers. */
  roles: ReadonlySet<string>;
}

export const ANONYMOUS: Caller = Object.freeze({ kind: 'anonymous', id: '', roles: new Set<string>() });

export const userCaller = (id: string, roles: Iterable<string> = []): Caller => ({
  kind: 'user',
  id,
  roles: new Set(roles),
});

export const serviceCaller = (id: string): Caller => ({ kind: 'service', id, roles: new Set() });

export const isAdmin = (caller: Caller): boolean => caller.kind === 'user' && caller.roles.has(Role.admin);

/** Whether a user holds one of `roles`; an admin holds them all. */
export const hasAnyRole = (caller: Caller, roles: readonly Role[]): boolean =>
  caller.kind === 'user' && (isAdmin(caller) || roles.some((role) => caller.roles.has(role)));

/**
 * The acting user named in a request (`user_id`) must be the caller, or the caller an admin (the box office acts
 * for a buyer). Anyone else is PERMISSION_DENIED: a valid caller acting for someone else, never silently replaced.
 */
export function requireActingUser(caller: Caller, userId: string): void {
  if (caller.kind === 'user' && (caller.id === userId || isAdmin(caller))) return;
  throw new DomainError('permission_denied', 'user_id does not match the authenticated caller');
}

/** Whether the caller may act on something `ownerId` owns: its owner, or an admin. */
export const isOwnerOrAdmin = (caller: Caller, ownerId: string): boolean =>
  (caller.kind === 'user' && caller.id === ownerId) || isAdmin(caller);

export const unauthenticated = (message: string): DomainError => new DomainError('unauthenticated', message);

export const permissionDenied = (message: string): DomainError => new DomainError('permission_denied', message);
