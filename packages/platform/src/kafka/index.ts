export * from './background-consumer.ts';
export * from './broker-check.ts';
export * from './client.ts';
export * from './consumer.ts';
export * from './headers.ts';
export * from './outbox.ts';
export * from './outbox-publisher.ts';
