import type { Logger } from '@ticket/platform';
import type { SandboxEvent } from './payments.ts';
import { SIGNATURE_HEADER, signSandboxPayload } from './signature.ts';
import type { PaymentStore, PendingDelivery } from './store.ts';

export interface WebhookOptions {
  url: string;
  secret: string;
  /** Wait before the first retry; doubles with each failed attempt. */
  backoffMs: number;
  maxBackoffMs: number;
  /** An attempt not answered by then has failed. */
  timeoutMs: number;
}

/**
 * The wait after the `attempts`-th failed attempt: `backoffMs` doubling up to `maxBackoffMs`, of which a random half
 * ("equal jitter"): receivers that went down together are not all retried at the same instant, and the wait still
 * grows with every failure, which full jitter (anywhere from zero) would not promise.
 */
export function retryDelayMs(
  attempts: number,
  { backoffMs, maxBackoffMs }: Pick<WebhookOptions, 'backoffMs' | 'maxBackoffMs'>,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxBackoffMs, backoffMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Sends the store's pending deliveries to the webhook URL, signed, and retries each until the receiver answers 2xx,
 * for as long as the process lives. Deliveries are independent and concurrent, so a receiver sees duplicates and,
 * once one has been retried, events out of order: as from any PSP. A delivery is forgotten only once acknowledged,
 * so those still pending when the process stops are sent after the next start.
 */
export class WebhookDispatcher {
  readonly #store: PaymentStore;
  readonly #options: WebhookOptions;
  readonly #logger: Logger;
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #stopping = new AbortController();
  #timer: NodeJS.Timeout | undefined;

  constructor(store: PaymentStore, options: WebhookOptions, logger: Logger) {
    this.#store = store;
    this.#options = options;
    this.#logger = logger;
  }

  /** Sends what is due and plans the next wake-up; call again whenever deliveries may have been added. */
  wake(): void {
    if (this.#stopping.signal.aborted) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const waiting = this.#store.pendingDeliveries().filter((delivery) => !this.#inFlight.has(delivery.id));
    const now = Date.now();
    for (const delivery of waiting.filter((d) => d.next_attempt_at <= now)) this.#attempt(delivery);
    const later = waiting.filter((d) => d.next_attempt_at > now).map((d) => d.next_attempt_at);
    if (later.length > 0) this.#timer = setTimeout(() => this.wake(), Math.min(...later) - now);
  }

  /** Stops retrying; attempts under way are cut short and stay pending in the state file. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    clearTimeout(this.#timer);
    await Promise.allSettled(this.#inFlight.values());
  }

  #attempt(delivery: PendingDelivery): void {
    const attempt = this.#deliver(delivery)
      // The state file could not be written: the delivery stays pending in memory and is tried again.
      .catch((error: unknown) =>
        this.#logger.error({ err: error, deliveryId: delivery.id }, 'webhook bookkeeping failed'),
      )
      .finally(() => {
        this.#inFlight.delete(delivery.id);
        this.wake();
      });
    this.#inFlight.set(delivery.id, attempt);
  }

  async #deliver(delivery: PendingDelivery): Promise<void> {
    const event = this.#store.event(delivery.event_id);
    if (event === undefined) {
      await this.#store.deliveryAcknowledged(delivery.id);
      return;
    }
    const attempt = delivery.attempts + 1;
    const log = { eventId: event.id, type: event.type, deliveryId: delivery.id, attempt };
    const failure = await this.#post(event);
    if (this.#stopping.signal.aborted) return;
    if (failure === undefined) {
      this.#logger.info(log, 'webhook acknowledged');
      await this.#store.deliveryAcknowledged(delivery.id);
      return;
    }
    const waitMs = retryDelayMs(attempt, this.#options);
    this.#logger.warn({ ...log, failure, retryInMs: waitMs }, 'webhook not acknowledged, will retry');
    await this.#store.deliveryFailed(delivery.id, Date.now() + waitMs);
  }

  /** Undefined when the receiver answered 2xx, else what went wrong. Signed afresh: the timestamp is the attempt's. */
  async #post(event: SandboxEvent): Promise<string | undefined> {
    const body = JSON.stringify(event);
    try {
      const response = await fetch(this.#options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'ticket-payment-sandbox/0.1',
          [SIGNATURE_HEADER]: signSandboxPayload(body, this.#options.secret),
        },
        body,
        signal: AbortSignal.any([AbortSignal.timeout(this.#options.timeoutMs), this.#stopping.signal]),
      });
      // Read to the end so the connection goes back to the pool.
      await response.arrayBuffer();
      return response.ok ? undefined : `HTTP ${response.status}`;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      return cause?.code ?? (error as Error).message;
    }
  }
}
