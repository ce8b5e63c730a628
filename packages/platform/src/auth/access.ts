import { type Caller, hasAnyRole, permissionDenied, type Role, unauthenticated } from './caller.ts';

/**
 * Who may call one RPC. Checked before the handler runs; what depends on the request (a buyer's own order, an
 * organizer's own event) is the handler's to check, with the caller in hand.
 */
export type Access =
  /** Anyone, with or without a token (a token that is sent must still be valid). */
  | { kind: 'public' }
  /** Any authenticated user, a buyer; with `roles`, only a user holding one of them (or an admin). */
  | { kind: 'user'; roles?: readonly Role[] }
  /** Only the named services of this system, by their service tokens. */
  | { kind: 'service'; services: readonly string[] };

export const access = {
  public: { kind: 'public' } as Access,
  anyUser: { kind: 'user' } as Access,
  roles: (...roles: Role[]): Access => ({ kind: 'user', roles }),
  services: (...services: string[]): Access => ({ kind: 'service', services }),
};

/** UNAUTHENTICATED when the rule needs an identity and there is none; PERMISSION_DENIED when it is the wrong one. */
export function authorize(rule: Access, caller: Caller): void {
  if (rule.kind === 'public') return;
  if (caller.kind === 'anonymous') throw unauthenticated('missing authorization metadata (Bearer token)');
  if (rule.kind === 'user') {
    if (caller.kind !== 'user') throw permissionDenied('this method is for users, not services');
    if (rule.roles !== undefined && !hasAnyRole(caller, rule.roles)) {
      throw permissionDenied(`this method needs the role ${rule.roles.join(' or ')}`);
    }
    return;
  }
  if (caller.kind !== 'service' || !rule.services.includes(caller.id)) {
    throw permissionDenied(`this method is for the ${rule.services.join(' and ')} service only`);
  }
}
