// Pure notification rules: what a notification is, and what happens after a delivery attempt fails.

export type NotificationKind =
  | 'CREATED'
  | 'PAID'
  | 'CANCELLED'
  | 'EXPIRED'
  | 'FAILED'
  | 'PAYMENT_FAILED'
  | 'REFUNDED'
  | 'LATE_PAYMENT_REFUNDED';
export type Channel = 'EMAIL' | 'LOG';
export type DeliveryStatus = 'PENDING' | 'SENT' | 'FAILED' | 'SKIPPED';

/** A notification as ListNotifications shows it. */
export interface Notification {
  id: string;
  userId: string;
  orderId: string;
  sourceEventId: string;
  kind: NotificationKind;
  channel: Channel;
  status: DeliveryStatus;
  recipient: string;
  subject: string;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

/** A claimed notification, with what the delivery loop needs to send it. */
export interface OutgoingMessage {
  id: string;
  orderId: string;
  kind: NotificationKind;
  channel: Channel;
  recipient: string;
  subject: string;
  bodyText: string;
  bodyHtml: string;
  /** Attempts including the one about to be made. */
  attempts: number;
}

export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  maxAttempts: number;
}

/** Why one delivery attempt failed; permanent failures (an SMTP 5xx) are never retried. */
export interface DeliveryFailure {
  permanent: boolean;
  message: string;
}

export type AfterFailure =
  | { status: 'FAILED'; error: string }
  | { status: 'PENDING'; retryInMs: number; error: string };

/** Longest error text kept on a notification: an SMTP reply can quote a whole message back. */
export const MAX_ERROR_LENGTH = 1_000;

/**
 * After `attempts` failed attempts: give up when the failure is permanent or the attempts are used up, else retry
 * after base · 2^(attempts-1), capped (1 s, 2 s, 4 s … with the defaults).
 */
export function afterFailure(attempts: number, failure: DeliveryFailure, policy: RetryPolicy): AfterFailure {
  const error = failure.message.slice(0, MAX_ERROR_LENGTH);
  if (failure.permanent || attempts >= policy.maxAttempts) return { status: 'FAILED', error };
  return { status: 'PENDING', retryInMs: retryDelayMs(attempts, policy), error };
}

export function retryDelayMs(attempts: number, { baseMs, maxMs }: Pick<RetryPolicy, 'baseMs' | 'maxMs'>): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(attempts - 1, 30)));
}

/** Where a notification goes: the order's email, or nowhere (SKIPPED) when it has none we could send to. */
export type Recipient = { kind: 'email'; address: string } | { kind: 'none'; reason: string };

// Deliberately loose (one @, no spaces, a dot in the domain): the SMTP server is the judge of an address; this
// only keeps obvious garbage from becoming a retried delivery.
const PLAUSIBLE_EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

export function recipientOf(email: string): Recipient {
  const address = email.trim();
  if (address === '') return { kind: 'none', reason: 'the order has no email address' };
  if (address.length > 254 || !PLAUSIBLE_EMAIL.test(address)) {
    return { kind: 'none', reason: 'the order has no valid email address' };
  }
  return { kind: 'email', address };
}
