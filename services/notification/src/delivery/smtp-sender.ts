import { createTransport } from 'nodemailer';
import type { NotificationConfig } from '../config.ts';
import type { OutgoingMessage } from '../domain/notification.ts';
import { DeliveryError, type Sender } from './sender.ts';

type SmtpConfig = Pick<
  NotificationConfig,
  | 'SMTP_HOST'
  | 'SMTP_PORT'
  | 'SMTP_SECURE'
  | 'SMTP_REQUIRE_TLS'
  | 'SMTP_USER'
  | 'SMTP_PASSWORD'
  | 'SMTP_TIMEOUT_MS'
  | 'MAIL_FROM'
  | 'NOTIFY_CONCURRENCY'
>;

/** The Message-ID of a notification's email: the same on every attempt, so a resent copy can be recognised. */
export const messageIdOf = (notificationId: string): string => `<${notificationId}@ticket>`;

/**
 * Sends over SMTP with nodemailer, through a small pool of connections (one per concurrent delivery). Every attempt
 * of a notification carries the same Message-ID (`<notification-id@ticket>`): if this process dies after the server
 * accepted a message but before SENT is recorded, the retry sends a copy that mail clients can deduplicate.
 */
export function createSmtpSender(config: SmtpConfig): Sender {
  const transporter = createTransport({
    pool: true,
    maxConnections: config.NOTIFY_CONCURRENCY,
    // nodemailer reconnects after 100 messages by default: a new TCP connection and EHLO every 100 emails, for nothing.
    maxMessages: Number.POSITIVE_INFINITY,
    host: config.SMTP_HOST,
    port: config.SMTP_PORT,
    secure: config.SMTP_SECURE,
    requireTLS: config.SMTP_REQUIRE_TLS,
    ...(config.SMTP_USER && config.SMTP_PASSWORD
      ? { auth: { user: config.SMTP_USER, pass: config.SMTP_PASSWORD } }
      : {}),
    connectionTimeout: config.SMTP_TIMEOUT_MS,
    greetingTimeout: config.SMTP_TIMEOUT_MS,
    socketTimeout: config.SMTP_TIMEOUT_MS,
  });
  return {
    async send(message: OutgoingMessage, signal: AbortSignal) {
      try {
        await transporter.sendMail({
          from: config.MAIL_FROM,
          to: message.recipient,
          subject: message.subject,
          text: message.bodyText,
          html: message.bodyHtml,
          messageId: messageIdOf(message.id),
          headers: { 'X-Ticket-Order-Id': message.orderId, 'X-Ticket-Notification': message.kind },
          signal,
        });
      } catch (error) {
        throw toDeliveryError(error);
      }
    },
    close: () => transporter.close(),
  };
}

interface SmtpError {
  message?: unknown;
  responseCode?: unknown;
  response?: unknown;
  rejectedErrors?: unknown;
}

/**
 * A 5xx reply is a permanent refusal (RFC 5321): the same message to the same address fails again, so it is not
 * retried. 503 (bad sequence of commands) is the exception: it is about the session, not the message. 4xx replies,
 * timeouts and connection errors are temporary.
 */
export function toDeliveryError(error: unknown): DeliveryError {
  const smtp = (typeof error === 'object' && error !== null ? error : {}) as SmtpError;
  const rejected = Array.isArray(smtp.rejectedErrors) ? (smtp.rejectedErrors[0] as SmtpError | undefined) : undefined;
  const code = typeof smtp.responseCode === 'number' ? smtp.responseCode : rejected?.responseCode;
  const permanent = typeof code === 'number' && code >= 500 && code < 600 && code !== 503;
  const reply = typeof smtp.response === 'string' ? smtp.response : undefined;
  const text = reply ?? (typeof smtp.message === 'string' ? smtp.message : String(error));
  return new DeliveryError(text, permanent, { cause: error });
}
