export * from './health.ts';
export * from './mailbox.ts';
export * from './services.ts';
export * from './stack.ts';
