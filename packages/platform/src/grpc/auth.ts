import type { CallContext, ClientMiddleware, ServerMiddleware } from 'nice-grpc-common';
import { Metadata } from 'nice-grpc-common';
import { type Access, authorize } from '../auth/access.ts';
import { ANONYMOUS, type Caller, permissionDenied, unauthenticated } from '../auth/caller.ts';
import type { TokenVerifier } from '../auth/tokens.ts';

/** What the auth middleware adds to a handler's call context: the verified caller (ANONYMOUS on a public call). */
export interface AuthContext {
  caller: Caller;
}

/** A ts-proto service definition: the methods whose rules a policy must give. */
interface ServiceDefinition {
  fullName: string;
  methods: Record<string, { name: string }>;
}

/** Who may call each RPC of one service: every method must be named (the compiler checks), deny otherwise. */
export type AccessRules<Service extends ServiceDefinition> = { [Method in keyof Service['methods']]: Access };

/** The rules of a service's methods, by the method path gRPC calls carry (`/ticket.event.v1.EventService/GetEvent`). */
export type AccessPolicy = ReadonlyMap<string, Access>;

export function accessPolicy<Service extends ServiceDefinition>(
  definition: Service,
  rules: AccessRules<Service>,
): AccessPolicy {
  return new Map(
    Object.entries(definition.methods).map(([key, method]) => [
      `/${definition.fullName}/${method.name}`,
      rules[key as keyof Service['methods']],
    ]),
  );
}

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * Authenticates and authorizes every call to the added services (health and reflection stay open, see
 * createGrpcServer): the `authorization: Bearer <JWT>` metadata, when present, must hold a token `verify` accepts;
 * then the method's rule in `policy` must admit the caller. The handler finds the caller as `context.caller`.
 * Messages say what is wrong but never echo the token.
 */
export function createAuthMiddleware(verify: TokenVerifier, policy: AccessPolicy): ServerMiddleware<AuthContext> {
  return async function* authMiddleware(call, context) {
    const rule = policy.get(call.method.path);
    if (rule === undefined) throw permissionDenied('no access rule for this method');
    const caller = await authenticate(context, verify);
    authorize(rule, caller);
    return yield* call.next(call.request, { ...context, caller });
  };
}

async function authenticate(context: CallContext, verify: TokenVerifier): Promise<Caller> {
  const header = context.metadata.get('authorization');
  if (header === undefined) return ANONYMOUS;
  const token = BEARER.exec(header)?.[1];
  if (token === undefined) throw unauthenticated('authorization metadata must be "Bearer <token>"');
  return verify(token);
}

/** Sends `authorization: Bearer <token>` on every call, the token asked of `token()` each time (it may cache). */
export function bearerCredentials(token: () => Promise<string>): ClientMiddleware {
  return async function* credentialsMiddleware(call, options) {
    const metadata = Metadata(options.metadata).set('authorization', `Bearer ${await token()}`);
    return yield* call.next(call.request, { ...options, metadata });
  };
}
