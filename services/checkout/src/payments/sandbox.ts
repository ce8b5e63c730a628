import {
  constructSandboxEvent,
  createSandboxClient,
  type SandboxEvent,
  SandboxRefused,
  SandboxSignatureError,
  SandboxUnavailable,
  SIGNATURE_HEADER,
} from '@ticket/payment-sandbox';
import {
  InvalidWebhookSignature,
  type PaymentEvent,
  type PaymentProvider,
  ProviderRefused,
  ProviderUnavailable,
} from './provider.ts';

export interface SandboxProviderOptions {
  baseUrl: string;
  apiKey: string;
  webhookSecret: string;
  timeoutMs?: number;
}

/** The sandbox PSP (packages/payment-sandbox) behind the payment provider port, through its SDK. */
export function createSandboxProvider({
  baseUrl,
  apiKey,
  webhookSecret,
  timeoutMs,
}: SandboxProviderOptions): PaymentProvider {
  const sandbox = createSandboxClient({ baseUrl, apiKey, timeoutMs });
  return {
    name: 'sandbox',
    async createPayment({ orderId, amount, idempotencyKey, description }) {
      const payment = await translated(() =>
        sandbox.createPayment({ ...amount, orderId, description, idempotencyKey }),
      );
      return { provider: 'sandbox', paymentId: payment.id, clientSecret: '', payUrl: payment.pay_url };
    },
    async refund({ paymentId, amount, idempotencyKey }) {
      const refund = await translated(() =>
        sandbox.refund({ paymentId, amountMinor: amount.amountMinor, idempotencyKey }),
      );
      return { refundId: refund.id, status: refund.status === 'succeeded' ? 'succeeded' : 'pending' };
    },
    parseWebhook(rawBody, headers) {
      const header = headers[SIGNATURE_HEADER.toLowerCase()];
      let event: SandboxEvent;
      try {
        event = constructSandboxEvent(rawBody, typeof header === 'string' ? header : '', webhookSecret);
      } catch (error) {
        if (error instanceof SandboxSignatureError) throw new InvalidWebhookSignature(error.message);
        throw error;
      }
      return toPaymentEvent(event);
    },
  };
}

function toPaymentEvent(event: SandboxEvent): PaymentEvent {
  switch (event.type) {
    case 'payment.succeeded':
    case 'payment.failed': {
      const payment = event.data.object;
      return {
        kind: event.type === 'payment.succeeded' ? 'payment_succeeded' : 'payment_failed',
        eventId: event.id,
        paymentId: payment.id,
        orderId: payment.order_id,
        amount: { amountMinor: payment.amount_minor, currency: payment.currency },
        ...(payment.failure_reason ? { failureReason: payment.failure_reason } : {}),
      };
    }
    case 'refund.succeeded': {
      const refund = event.data.object;
      return {
        kind: 'refund_succeeded',
        eventId: event.id,
        paymentId: refund.payment_id,
        refundId: refund.id,
        amount: { amountMinor: refund.amount_minor, currency: refund.currency },
      };
    }
    default:
      // A type this version does not know (a newer sandbox): acknowledged and left alone.
      return { kind: 'ignored', eventId: (event as { id: string }).id, type: (event as { type: string }).type };
  }
}

/** The SDK's errors in the port's terms, so the app layer retries what is worth retrying. */
async function translated<Result>(call: () => Promise<Result>): Promise<Result> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof SandboxUnavailable) throw new ProviderUnavailable(error.message, { cause: error });
    if (error instanceof SandboxRefused) throw new ProviderRefused(error.message, { cause: error });
    throw error;
  }
}
