import type { ServiceName } from '@ticket/contracts/topology';

export type { ServiceName };

/** The services in the order they start: each one's dependencies come before it. */
export const SERVICE_NAMES: readonly ServiceName[] = ['booking', 'event', 'checkout', 'notification'];

export const serviceAddress = (port: number): string => `127.0.0.1:${port}`;
