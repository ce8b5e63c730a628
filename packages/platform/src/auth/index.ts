export { type Access, access, authorize } from './access.ts';
export {
  ANONYMOUS,
  type Caller,
  hasAnyRole,
  isAdmin,
  isOwnerOrAdmin,
  permissionDenied,
  Role,
  requireActingUser,
  serviceCaller,
  unauthenticated,
  userCaller,
} from './caller.ts';
export { createServiceTokenSource, createServiceTokenVerifier, type ServiceTokenOptions } from './service-tokens.ts';
export { MIN_SECRET_LENGTH, type TokenVerifier } from './tokens.ts';
export {
  createUserTokenVerifier,
  DEFAULT_ROLES_CLAIM,
  rolesOf,
  signUserToken,
  type UserTokenClaims,
  type UserTokenOptions,
  userTokenOptions,
} from './user-tokens.ts';
