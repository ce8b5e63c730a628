import type { CheckoutConfig } from '../config.ts';
import type { PaymentProvider } from './provider.ts';
import { createSandboxProvider } from './sandbox.ts';
import { createStripeProvider } from './stripe.ts';

/** The provider PAYMENT_PROVIDER names, from its variables (loadCheckoutConfig made sure they are set). */
export function createPaymentProvider(config: CheckoutConfig): PaymentProvider {
  if (config.PAYMENT_PROVIDER === 'stripe') {
    return createStripeProvider({
      secretKey: config.STRIPE_SECRET_KEY ?? '',
      webhookSecret: config.STRIPE_WEBHOOK_SECRET ?? '',
      apiBaseUrl: config.STRIPE_API_URL,
      timeoutMs: config.PAYMENT_TIMEOUT_MS,
    });
  }
  return createSandboxProvider({
    baseUrl: config.PAYMENT_SANDBOX_URL,
    apiKey: config.PAYMENT_SANDBOX_API_KEY ?? '',
    webhookSecret: config.PAYMENT_SANDBOX_WEBHOOK_SECRET ?? '',
    timeoutMs: config.PAYMENT_TIMEOUT_MS,
  });
}
