export * from './client.ts';
export * from './columns.ts';
export * from './migrate.ts';
export * from './roles.ts';
export * from './tables.ts';
