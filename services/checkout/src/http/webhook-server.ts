import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@ticket/platform';
import { applyPaymentEvent } from '../app/apply-payment-event.ts';
import type { CheckoutContext } from '../app/context.ts';
import { InvalidWebhookSignature } from '../payments/provider.ts';

/** A webhook body is a few KB; anything near this is not one. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface WebhookServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The payment provider's webhooks: `POST /webhooks/<provider>`. The signature is checked on the raw bytes (400 when
 * it does not verify: nothing changes); the event is applied (see applyPaymentEvent) and answered 200, or 503 when
 * something worth retrying failed, so the provider delivers it again. Anything else is 404 / 405 / 413.
 */
export async function startWebhookServer(
  context: CheckoutContext,
  host: string,
  port: number,
  logger: Logger,
): Promise<WebhookServer> {
  const path = `/webhooks/${context.payments.name}`;
  const server: Server = createServer((request, response) => {
    void handle(context, path, request, response, logger);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  logger.info({ host, port: bound, path }, 'payment webhooks listening');
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

async function handle(
  context: CheckoutContext,
  path: string,
  request: IncomingMessage,
  response: ServerResponse,
  logger: Logger,
): Promise<void> {
  const answer = (status: number, body: Record<string, unknown>): void => {
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  if (request.url !== path) return answer(404, { error: 'not found' });
  if (request.method !== 'POST') return answer(405, { error: 'POST only' });
  const body = await readBody(request);
  if (body === undefined) return answer(413, { error: 'body too large' });
  try {
    const event = context.payments.parseWebhook(body, request.headers);
    const outcome = await applyPaymentEvent(context, event);
    logger.info({ eventId: event.eventId, kind: event.kind, outcome }, 'payment webhook applied');
    return answer(200, { received: true, outcome });
  } catch (error) {
    if (error instanceof InvalidWebhookSignature) {
      logger.warn({ reason: error.message }, 'payment webhook refused: bad signature');
      return answer(400, { error: 'invalid signature' });
    }
    logger.warn({ err: error }, 'payment webhook not applied; the provider will deliver it again');
    return answer(503, { error: 'try again later' });
  }
}

async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
