import type { Logger } from '@ticket/platform';
import type { PaymentStore } from './store.ts';

/**
 * Applies "pay late" outcomes when they are due. They are kept in the state file, so one scheduled before a
 * restart still happens after it (at once, if it fell due meanwhile).
 */
export class PayLaterScheduler {
  readonly #store: PaymentStore;
  readonly #logger: Logger;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #stopped = false;

  constructor(store: PaymentStore, logger: Logger) {
    this.#store = store;
    this.#logger = logger;
  }

  /** Arms a timer for every scheduled outcome that has none yet; call again whenever one may have been added. */
  wake(): void {
    if (this.#stopped) return;
    for (const scheduled of this.#store.scheduledPays()) {
      if (this.#timers.has(scheduled.id)) continue;
      const timer = setTimeout(() => this.#run(scheduled.id), Math.max(0, scheduled.due_at - Date.now()));
      this.#timers.set(scheduled.id, timer);
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #run(id: string): void {
    this.#store.runScheduledPay(id).then(
      (refused) => {
        this.#timers.delete(id);
        if (refused) this.#logger.warn({ scheduledPayId: id, reason: refused.message }, 'late payment not applied');
      },
      (error: unknown) => {
        this.#timers.delete(id);
        this.#logger.error({ err: error, scheduledPayId: id }, 'late payment failed');
      },
    );
  }
}
