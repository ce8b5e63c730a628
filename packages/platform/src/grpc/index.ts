export {
  type AccessPolicy,
  type AccessRules,
  type AuthContext,
  accessPolicy,
  bearerCredentials,
  createAuthMiddleware,
} from './auth.ts';
export { createCallLoggingMiddleware } from './call-logging-middleware.ts';
export {
  createServiceClient,
  type ServiceClient,
  type ServiceClientCallOptions,
  type ServiceClientOptions,
} from './client.ts';
export {
  createErrorMiddleware,
  INTERNAL_MESSAGE,
  isAbortError,
  isDependencyUnavailable,
  toServerError,
  UNAVAILABLE_MESSAGE,
} from './error-middleware.ts';
/** Reusable zod schemas for request fields: `field.uuid()`, `field.money()`, … */
export * as field from './fields.ts';
export { type GrpcHealth, LIVENESS_SERVICE, type ServingStatus } from './health.ts';
export {
  createHealthMonitor,
  type DependencyCheck,
  type HealthMonitor,
  type HealthMonitorOptions,
} from './health-monitor.ts';
export { createGrpcServer, type GrpcServer, type GrpcServerOptions } from './server.ts';
export { type Closer, closeInOrder, onShutdownSignal, type ShutdownSignalOptions } from './shutdown.ts';
export { parseRequest, protoPath } from './validation.ts';
