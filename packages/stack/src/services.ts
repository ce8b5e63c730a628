/** The services in the order they start: each one's dependencies come before it. */
export const SERVICE_NAMES = ['booking', 'event', 'checkout', 'notification'] as const;

export type ServiceName = (typeof SERVICE_NAMES)[number];

export const DEFAULT_PORTS: Record<ServiceName, number> = {
  event: 50600,
  booking: 50610,
  checkout: 50620,
  notification: 50630,
};

export const serviceAddress = (port: number): string => `127.0.0.1:${port}`;
