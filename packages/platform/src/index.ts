export * from './config.ts';
export * from './db/index.ts';
export * from './errors.ts';
export * from './grpc/index.ts';
export * from './kafka/index.ts';
export * from './logger.ts';
export * from './transient.ts';
