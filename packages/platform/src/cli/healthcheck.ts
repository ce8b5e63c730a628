#!/usr/bin/env node
// Asks a service's grpc.health.v1 whether it serves: `ticket-healthcheck <host:port> [--service <name>] [--timeout-ms <ms>]`.
// Exit 0 when the answer is SERVING, 1 for anything else (NOT_SERVING, unknown service, no answer in time, bad usage):
// Docker's HEALTHCHECK and compose's healthcheck read only the exit code, and Docker reserves 2, so usage errors are 1
// too. Used instead of downloading grpc_health_probe, which the images could not fetch and would have to trust.
//
// It imports only nice-grpc and the health definition (not the platform's index), so a check starts in a fraction of
// the time a whole service takes to load.
import { parseArgs } from 'node:util';
import { ClientError, createChannel, createClient, Status } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import { HealthCheckResponse_ServingStatus as ServingStatus } from 'nice-grpc-server-health/lib/proto/grpc/health/v1/health.js';

const DEFAULT_TIMEOUT_MS = 3_000;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    // '' is the server as a whole, which the platform's server reports NOT_SERVING while it drains or a dependency is down.
    service: { type: 'string', default: '' },
    'timeout-ms': { type: 'string', default: String(DEFAULT_TIMEOUT_MS) },
  },
});

const [address] = positionals;
const timeoutMs = Number(values['timeout-ms']);
if (!address || positionals.length > 1 || !Number.isInteger(timeoutMs) || timeoutMs <= 0) {
  console.error('usage: ticket-healthcheck <host:port> [--service <name>] [--timeout-ms <ms>]');
  process.exit(1);
}

const status = await checkServing(address, values.service, timeoutMs);
console.log(`${address}${values.service ? ` ${values.service}` : ''}: ${status}`);
process.exit(status === 'SERVING' ? 0 : 1);

async function checkServing(target: string, service: string, timeout: number): Promise<string> {
  const channel = createChannel(target);
  try {
    const response = await createClient(HealthDefinition, channel).check(
      { service },
      { signal: AbortSignal.timeout(timeout) },
    );
    return ServingStatus[response.status] ?? String(response.status);
  } catch (error) {
    // NOT_FOUND is how Check answers for a service name the server does not know.
    if (error instanceof ClientError && error.code === Status.NOT_FOUND) return 'SERVICE_UNKNOWN';
    return `UNREACHABLE (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    channel.close();
  }
}
