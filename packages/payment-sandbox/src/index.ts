export {
  type CreateSandboxPaymentRequest,
  type CreateSandboxRefundRequest,
  createSandboxClient,
  type PaySandboxPaymentRequest,
  type SandboxClient,
  type SandboxClientOptions,
  SandboxRefused,
  SandboxUnavailable,
} from './client.ts';
export { loadPaymentSandboxConfig, type PaymentSandboxConfig, paymentSandboxConfigShape } from './config.ts';
export type {
  PaymentStatus,
  PayOutcome,
  SandboxEvent,
  SandboxEventType,
  SandboxPayment,
  SandboxRefund,
} from './payments.ts';
export { type PaymentSandboxOptions, type RunningPaymentSandbox, startPaymentSandbox } from './server.ts';
export { constructSandboxEvent, SandboxSignatureError, SIGNATURE_HEADER, signSandboxPayload } from './signature.ts';
