import type { OutgoingMessage } from '../domain/notification.ts';

/** Delivers one notification through one channel; throws a DeliveryError (or anything, read as temporary) on failure. */
export interface Sender {
  send(message: OutgoingMessage, signal: AbortSignal): Promise<void>;
  close(): Promise<void> | void;
}

/** A failed delivery attempt; `permanent` when trying the same message again cannot succeed. */
export class DeliveryError extends Error {
  readonly permanent: boolean;

  constructor(message: string, permanent: boolean, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DeliveryError';
    this.permanent = permanent;
  }
}

/** The DeliveryFailure a thrown error stands for; unknown errors are temporary (retried, then FAILED). */
export function describeFailure(error: unknown): { permanent: boolean; message: string } {
  if (error instanceof DeliveryError) return { permanent: error.permanent, message: error.message };
  return { permanent: false, message: error instanceof Error ? error.message : String(error) };
}
