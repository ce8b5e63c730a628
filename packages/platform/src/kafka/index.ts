export * from './client.ts';
export * from './consumer.ts';
export * from './headers.ts';
export * from './outbox.ts';
