import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';

/** One message as the SMTP server received it. */
export interface ReceivedMail {
  /** RCPT TO of the envelope. */
  to: string[];
  subject: string;
  text: string;
  html: string;
  messageId: string;
  orderId: string;
  kind: string;
  /** Date.now() when the server had the whole message (end of DATA). */
  receivedAt: number;
}

/** Decides whether the server refuses a recipient: an SMTP reply code and text, or undefined to accept. */
export type RecipientPolicy = (address: string) => { code: number; message: string } | undefined;

export interface SmtpSink {
  port: number;
  mails: ReceivedMail[];
  /** Refusals answered to RCPT TO, counted per address. */
  refusals: Map<string, number>;
  setRecipientPolicy(policy: RecipientPolicy | undefined): void;
  /** Makes the server take this long before it answers the end of DATA (a slow mail server). */
  setDataDelay(ms: number): void;
  /** Mails to `address`. */
  mailsTo(address: string): ReceivedMail[];
  close(): Promise<void>;
}

export interface SmtpSinkOptions {
  /**
   * Parse each message (mailparser) for its subject, bodies and headers; true by default. Off, the server answers
   * the end of DATA as soon as the bytes are in, like a relay that queues mail, and keeps the envelope's recipients
   * and the arrival time only: parsing costs milliseconds of CPU per message, which a benchmark would otherwise
   * measure instead of the service.
   */
  parse?: boolean;
}

/**
 * A real SMTP server (the smtp-server package) on a free local port that keeps what it receives, parsed by
 * mailparser. No TLS and no AUTH: the service is configured for a plain local relay.
 */
export async function startSmtpSink(port = 0, { parse = true }: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const mails: ReceivedMail[] = [];
  const refusals = new Map<string, number>();
  let policy: RecipientPolicy | undefined;
  let dataDelayMs = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    disableReverseLookup: true,
    logger: false,
    // On close, do not wait long for the service's pooled connections to say QUIT: tests restart the server.
    closeTimeout: 200,
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const refusal = policy?.(address.address);
      if (!refusal) return callback();
      refusals.set(address.address, (refusals.get(address.address) ?? 0) + 1);
      const error = Object.assign(new Error(refusal.message), { responseCode: refusal.code });
      return callback(error);
    },
    onData(stream, session, callback) {
      const to = session.envelope.rcptTo.map((rcpt) => rcpt.address);
      if (!parse) {
        stream.resume();
        stream.once('end', () => {
          mails.push({
            to,
            subject: '',
            text: '',
            html: '',
            messageId: '',
            orderId: '',
            kind: '',
            receivedAt: Date.now(),
          });
          callback();
        });
        return;
      }
      simpleParser(stream).then(
        async (parsed) => {
          if (dataDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, dataDelayMs));
          mails.push({
            to,
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
            messageId: parsed.messageId ?? '',
            orderId: headerText(parsed.headers.get('x-ticket-order-id')),
            kind: headerText(parsed.headers.get('x-ticket-notification')),
            receivedAt: Date.now(),
          });
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.server.address() as AddressInfo).port,
    mails,
    refusals,
    setRecipientPolicy(next) {
      policy = next;
    },
    setDataDelay(ms) {
      dataDelayMs = ms;
    },
    mailsTo: (address) => mails.filter((mail) => mail.to.includes(address)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function headerText(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
