import { createChannel, createClient } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import { HealthCheckResponse_ServingStatus as ServingStatus } from 'nice-grpc-server-health/lib/proto/grpc/health/v1/health.js';
import { sleep } from './processes.ts';

export type Health = 'SERVING' | 'NOT_SERVING' | 'UNREACHABLE';

/** What the service's grpc.health.v1 answers for the whole server. */
export async function checkHealth(address: string, timeoutMs = 2_000): Promise<Health> {
  const channel = createChannel(address);
  try {
    const { status } = await createClient(HealthDefinition, channel).check(
      { service: '' },
      { signal: AbortSignal.timeout(timeoutMs) },
    );
    return status === ServingStatus.SERVING ? 'SERVING' : 'NOT_SERVING';
  } catch {
    return 'UNREACHABLE';
  } finally {
    channel.close();
  }
}

/** Polls until the service serves; gives up when `alive()` says its process died or the time is up. */
export async function awaitServing(
  address: string,
  { timeoutMs, alive }: { timeoutMs: number; alive: () => boolean },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: Health = 'UNREACHABLE';
  while (Date.now() < deadline) {
    if (!alive()) throw new Error('the process exited');
    last = await checkHealth(address);
    if (last === 'SERVING') return;
    await sleep(200);
  }
  throw new Error(`not serving after ${timeoutMs / 1000} s (last health: ${last})`);
}
