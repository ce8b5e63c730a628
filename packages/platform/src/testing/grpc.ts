import { ClientError, Status } from 'nice-grpc';

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
