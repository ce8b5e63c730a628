export * from './database.ts';
export * from './kafka.ts';
