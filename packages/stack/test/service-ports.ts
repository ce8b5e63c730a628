import { freePort } from '@ticket/platform/testing';
import { SERVICE_NAMES, type ServiceName } from '../src/services.ts';

/** A free port for each service, for a stack that runs beside a dev stack on the standard ones. */
export async function freeServicePorts(): Promise<Record<ServiceName, number>> {
  const ports = {} as Record<ServiceName, number>;
  for (const name of SERVICE_NAMES) ports[name] = await freePort();
  return ports;
}
