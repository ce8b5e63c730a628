import { OrderEvent } from '@ticket/contracts/v1/checkout/order_events';
import { type ConsumedEvent, type Executor, PoisonMessageError } from '@ticket/platform';
import type { NotificationContext } from '../app/context.ts';
import { recordNotification, recordNotifications } from '../app/record-notification.ts';
import type { OrderChange } from '../domain/order-change.ts';
import { toOrderChange, UnusableEventError } from '../mapping.ts';

/**
 * The handler of checkout's order events: decode, then record the notification in the consumer's transaction.
 * A message that is no OrderEvent, or one no notification can come from, is dead-lettered at once (retrying it
 * cannot help).
 */
export function handleOrderEvent(context: NotificationContext) {
  return async (event: ConsumedEvent, tx: Executor): Promise<void> => {
    await recordNotification(context, tx, decodeOrderChange(event));
  };
}

/**
 * handleOrderEvent for a batch of events of one partition: one INSERT for all their notifications. A message that
 * cannot be decoded fails the batch; the consumer then handles its messages one at a time and dead-letters that one.
 */
export function handleOrderEvents(context: NotificationContext) {
  return async (events: readonly ConsumedEvent[], tx: Executor): Promise<void> => {
    await recordNotifications(context, tx, events.map(decodeOrderChange));
  };
}

function decodeOrderChange(event: ConsumedEvent): OrderChange {
  let message: OrderEvent;
  try {
    message = OrderEvent.decode(event.value);
  } catch (error) {
    throw new PoisonMessageError(`not an OrderEvent: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  try {
    return toOrderChange(event.eventId, message);
  } catch (error) {
    if (error instanceof UnusableEventError) throw new PoisonMessageError(error.message, { cause: error });
    throw error;
  }
}
