import { ClientError, createChannel, createClient, Status } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import { HealthCheckResponse_ServingStatus } from 'nice-grpc-server-health/lib/proto/grpc/health/v1/health.js';

// How a gRPC call ended, as a string a test compares. An error that is no gRPC status fails the test as it is.

/** The status name a call ends with: 'OK' on success, else e.g. 'RESOURCE_EXHAUSTED'. */
export const callStatus = async (promise: Promise<unknown>): Promise<string> =>
  (await callOutcome(promise)).split(':')[0] ?? '';

/** The status name and message a call ends with: 'OK' on success, else e.g. 'INVALID_ARGUMENT: seats: …'. */
export async function callOutcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'OK';
  } catch (error) {
    if (error instanceof ClientError) return `${Status[error.code]}: ${error.details}`;
    throw error;
  }
}

/** The ClientError a call fails with; a call that succeeds, or fails with anything else, fails the test. */
export async function callError(promise: Promise<unknown>): Promise<ClientError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ClientError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

/**
 * What `grpc.health.v1.Health/Check` answers at `address` for `service` ('' is the server as a whole):
 * 'SERVING', 'NOT_SERVING', …, or the status of a failed call ('UNAVAILABLE: …'), for `vi.waitFor` to compare.
 */
export async function healthStatus(address: string, service = ''): Promise<string> {
  const channel = createChannel(address);
  try {
    const { status } = await createClient(HealthDefinition, channel).check(
      { service },
      { signal: AbortSignal.timeout(5_000) },
    );
    return HealthCheckResponse_ServingStatus[status] ?? String(status);
  } catch (error) {
    if (error instanceof ClientError) return `${Status[error.code]}: ${error.details}`;
    return String(error);
  } finally {
    channel.close();
  }
}
