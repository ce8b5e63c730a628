export * from './broker.ts';
export * from './database.ts';
export * from './grpc.ts';
export * from './identity-provider.ts';
export * from './kafka.ts';
export * from './metrics.ts';
export * from './ports.ts';
export * from './tokens.ts';
