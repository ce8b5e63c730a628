import type { NotificationKind } from '../domain/notification.ts';
import type { OrderChange } from '../domain/order-change.ts';
import { latePaymentRefunded } from './late-payment-refunded.ts';
import type { RenderedMessage, Template } from './layout.ts';
import { orderCancelled } from './order-cancelled.ts';
import { orderCreated } from './order-created.ts';
import { orderExpired } from './order-expired.ts';
import { orderFailed } from './order-failed.ts';
import { orderPaid } from './order-paid.ts';
import { orderRefunded } from './order-refunded.ts';
import { paymentFailed } from './payment-failed.ts';

export type { RenderedMessage };

const templates: Record<NotificationKind, Template> = {
  CREATED: orderCreated,
  PAID: orderPaid,
  CANCELLED: orderCancelled,
  EXPIRED: orderExpired,
  FAILED: orderFailed,
  PAYMENT_FAILED: paymentFailed,
  REFUNDED: orderRefunded,
  LATE_PAYMENT_REFUNDED: latePaymentRefunded,
};

/** The message announcing `change`, from the template of its kind. */
export function renderNotification(change: OrderChange): RenderedMessage {
  return templates[change.kind](change);
}
