import { DefaultHttpPort } from '@ticket/contracts/topology';
import { commonConfig, env, loadConfig } from '@ticket/platform';
import { z } from 'zod';

/** Long enough that a guessed or empty key cannot pass; `make up` provisions 64 hex characters. */
const MIN_SECRET_LENGTH = 16;

const secret = () => z.string().min(MIN_SECRET_LENGTH, { error: `must be at least ${MIN_SECRET_LENGTH} characters` });

export const paymentSandboxConfigShape = {
  /** The interface the HTTP server binds: loopback, as nothing outside this machine should pay or refund. */
  PAYMENT_SANDBOX_HOST: z.string().min(1).default('127.0.0.1'),
  /** `0`: any free port (tests). */
  PAYMENT_SANDBOX_PORT: env.port(DefaultHttpPort.paymentSandbox),
  /** Base of the `pay_url` the buyer is sent to; the bound address when unset. */
  PAYMENT_SANDBOX_PUBLIC_URL: z.url().optional(),
  /**
   * Payments, refunds and pending webhooks: a snapshot, with every change since appended to `<this>.journal` and on
   * disk before it is answered, so a restart keeps them.
   */
  PAYMENT_SANDBOX_STATE_FILE: z.string().min(1).default('.data/payment-sandbox/state.json'),
  /** The merchant's key: every /v1 call carries `Authorization: Bearer <key>`. */
  PAYMENT_SANDBOX_API_KEY: secret(),
  /** Where every webhook event is POSTed: checkout's endpoint. */
  PAYMENT_SANDBOX_WEBHOOK_URL: env.url(`http://127.0.0.1:${DefaultHttpPort.checkoutWebhooks}/webhooks/sandbox`),
  /** HMAC-SHA256 key of the `Sandbox-Signature` header; the receiver verifies with the same one. */
  PAYMENT_SANDBOX_WEBHOOK_SECRET: secret(),
  /** Wait before the first retry of a webhook that was not answered 2xx; it doubles with each failure. */
  PAYMENT_SANDBOX_WEBHOOK_BACKOFF_MS: env.positiveInt(200),
  /** Longest wait between two attempts. */
  PAYMENT_SANDBOX_WEBHOOK_BACKOFF_MAX_MS: env.positiveInt(10_000),
  /** An attempt the receiver has not answered by then counts as failed. */
  PAYMENT_SANDBOX_WEBHOOK_TIMEOUT_MS: env.positiveInt(5_000),
  LOG_LEVEL: commonConfig.LOG_LEVEL,
  LOG_PRETTY: commonConfig.LOG_PRETTY,
};

export type PaymentSandboxConfig = ReturnType<typeof loadPaymentSandboxConfig>;

export function loadPaymentSandboxConfig(source: Record<string, string | undefined> = process.env) {
  return loadConfig(paymentSandboxConfigShape, source);
}
