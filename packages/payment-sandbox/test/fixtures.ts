import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@ticket/platform';
import { test as base } from 'vitest';
import {
  constructSandboxEvent,
  createSandboxClient,
  loadPaymentSandboxConfig,
  type RunningPaymentSandbox,
  type SandboxClient,
  type SandboxEvent,
  startPaymentSandbox,
} from '../src/index.ts';

export const API_KEY = 'test-api-key-0123456789';
export const WEBHOOK_SECRET = 'test-webhook-secret-0123456789';

/** One request the receiver got, and what it answered. */
export interface Delivery {
  rawBody: Buffer;
  headers: IncomingHttpHeaders;
  /** Verified with the test's secret. */
  event: SandboxEvent;
  answered: number;
}

/** A real HTTP endpoint standing in for checkout's webhook: it records every delivery and answers as told. */
export interface WebhookReceiver {
  url: string;
  deliveries: Delivery[];
  /** The status for the n-th delivery (1-based) of an event; 200 unless changed. */
  answer: (event: SandboxEvent, attempt: number) => number;
  deliveriesOf(eventId: string): Delivery[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = {
    url: '',
    deliveries: [],
    answer: () => 200,
    deliveriesOf: (eventId) => receiver.deliveries.filter((delivery) => delivery.event.id === eventId),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks);
    let event: SandboxEvent;
    try {
      event = constructSandboxEvent(rawBody, request.headers['sandbox-signature'], WEBHOOK_SECRET);
    } catch {
      response.writeHead(400).end();
      return;
    }
    const answered = receiver.answer(event, receiver.deliveriesOf(event.id).length + 1);
    receiver.deliveries.push({ rawBody, headers: request.headers, event, answered });
    response.writeHead(answered).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/sandbox`;
  return receiver;
}

export interface SandboxOptions {
  stateFile: string;
  webhookUrl: string;
  /** Another port, e.g. the one a stopped sandbox had. */
  port?: number;
}

/** Quick retries, so a test sees several attempts in well under a second. */
export function startSandbox({ stateFile, webhookUrl, port = 0 }: SandboxOptions): Promise<RunningPaymentSandbox> {
  const config = loadPaymentSandboxConfig({
    PAYMENT_SANDBOX_PORT: String(port),
    PAYMENT_SANDBOX_STATE_FILE: stateFile,
    PAYMENT_SANDBOX_API_KEY: API_KEY,
    PAYMENT_SANDBOX_WEBHOOK_URL: webhookUrl,
    PAYMENT_SANDBOX_WEBHOOK_SECRET: WEBHOOK_SECRET,
    PAYMENT_SANDBOX_WEBHOOK_BACKOFF_MS: '20',
    PAYMENT_SANDBOX_WEBHOOK_BACKOFF_MAX_MS: '200',
    PAYMENT_SANDBOX_WEBHOOK_TIMEOUT_MS: '2000',
  });
  return startPaymentSandbox(config, { logger: createLogger({ name: 'payment-sandbox', level: 'silent' }) });
}

export const clientOf = (sandbox: RunningPaymentSandbox): SandboxClient =>
  createSandboxClient({ baseUrl: sandbox.url, apiKey: API_KEY, timeoutMs: 2_000 });

let orders = 0;
/** A payment request no other test uses. */
export const newPayment = (amountMinor = 1_000) => ({
  amountMinor,
  currency: 'EUR',
  orderId: `order-${process.pid}-${++orders}`,
  description: 'two tickets',
  idempotencyKey: `key-${process.pid}-${orders}`,
});

interface Fixtures {
  stateDir: string;
  receiver: WebhookReceiver;
  sandbox: RunningPaymentSandbox;
  client: SandboxClient;
}

/** Each test gets its own state directory, webhook receiver, sandbox and client, all stopped after it. */
export const test = base.extend<Fixtures>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads the fixtures a fixture needs from this pattern.
  stateDir: async ({}, use) => {
    const dir = await mkdtemp(join(tmpdir(), 'payment-sandbox-'));
    await use(dir);
    await rm(dir, { recursive: true, force: true });
  },
  // biome-ignore lint/correctness/noEmptyPattern: as above.
  receiver: async ({}, use) => {
    const receiver = await startReceiver();
    await use(receiver);
    await receiver.close();
  },
  sandbox: async ({ stateDir, receiver }, use) => {
    const sandbox = await startSandbox({ stateFile: join(stateDir, 'state.json'), webhookUrl: receiver.url });
    await use(sandbox);
    await sandbox.stop();
  },
  client: async ({ sandbox }, use) => {
    await use(clientOf(sandbox));
  },
});
