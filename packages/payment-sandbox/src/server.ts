import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '@ticket/platform';
import type { PaymentSandboxConfig } from './config.ts';
import { assertAuthorized, errorReply, send } from './http.ts';
import { PayLaterScheduler } from './pay-later.ts';
import { PaymentError } from './payments.ts';
import { findRoute, type RouteContext } from './routes.ts';
import { PaymentStore } from './store.ts';
import { WebhookDispatcher } from './webhooks.ts';

export interface RunningPaymentSandbox {
  /** Where the API listens, e.g. `http://127.0.0.1:50640`. */
  url: string;
  port: number;
  /** The state file in use. */
  stateFile: string;
  /**
   * Stops taking requests, lets those under way finish, stops the webhook retries (pending ones stay in the state
   * file for the next start), waits for the last save and folds the journal into the state file.
   */
  stop(): Promise<void>;
}

export interface PaymentSandboxOptions {
  /** Default: JSON lines at the config's LOG_LEVEL. */
  logger?: Logger;
}

/** How long requests under way may take to finish when stopping, before their connections are cut. */
const STOP_GRACE_MS = 5_000;

/** Starts the sandbox PSP in this process: its state from the state file, the HTTP API, webhooks and pay-later. */
export async function startPaymentSandbox(
  config: PaymentSandboxConfig,
  options: PaymentSandboxOptions = {},
): Promise<RunningPaymentSandbox> {
  const logger =
    options.logger ?? createLogger({ name: 'payment-sandbox', level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
  // The pay URL's base is known only once the port is bound (PAYMENT_SANDBOX_PORT=0); no payment is made before.
  let publicUrl = config.PAYMENT_SANDBOX_PUBLIC_URL ?? '';
  const store = await PaymentStore.open(
    config.PAYMENT_SANDBOX_STATE_FILE,
    (paymentId) => `${publicUrl.replace(/\/$/, '')}/pay/${paymentId}`,
  );
  const dispatcher = new WebhookDispatcher(
    store,
    {
      url: config.PAYMENT_SANDBOX_WEBHOOK_URL,
      secret: config.PAYMENT_SANDBOX_WEBHOOK_SECRET,
      backoffMs: config.PAYMENT_SANDBOX_WEBHOOK_BACKOFF_MS,
      maxBackoffMs: config.PAYMENT_SANDBOX_WEBHOOK_BACKOFF_MAX_MS,
      timeoutMs: config.PAYMENT_SANDBOX_WEBHOOK_TIMEOUT_MS,
    },
    logger,
  );
  const payLater = new PayLaterScheduler(store, logger);
  const context: RouteContext = { store, refundOutage: { failing: false } };
  const server = createServer(
    (request, response) => void handle(context, config.PAYMENT_SANDBOX_API_KEY, logger, request, response),
  );
  server.listen(config.PAYMENT_SANDBOX_PORT, config.PAYMENT_SANDBOX_HOST);
  try {
    await once(server, 'listening');
  } catch (error) {
    // Listening failed (the port is taken, say): let go of the journal, so that this process may open it again.
    await store.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${hostForUrl(config.PAYMENT_SANDBOX_HOST)}:${port}`;
  publicUrl ||= url;

  store.onChange(() => {
    dispatcher.wake();
    payLater.wake();
  });
  // Deliveries and late payments left from before a restart.
  dispatcher.wake();
  payLater.wake();
  const pending = store.pendingDeliveries().length;
  logger.info(
    { url, stateFile: config.PAYMENT_SANDBOX_STATE_FILE, webhookUrl: config.PAYMENT_SANDBOX_WEBHOOK_URL, pending },
    'payment sandbox listening',
  );

  const stop = async () => {
    await closeServer(server);
    payLater.stop();
    await dispatcher.stop();
    await store.close();
    logger.info('payment sandbox stopped');
  };
  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    stateFile: config.PAYMENT_SANDBOX_STATE_FILE,
    // Once: a second call (a test's teardown after it stopped the sandbox itself) waits for the first.
    stop: () => {
      stopped ??= stop();
      return stopped;
    },
  };
}

async function handle(
  context: RouteContext,
  apiKey: string,
  logger: Logger,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://sandbox');
  try {
    const found = findRoute(request.method ?? 'GET', url.pathname);
    if (found === undefined) throw new PaymentError('not_found', `no route ${request.method} ${url.pathname}`);
    if (found.route.authenticated) assertAuthorized(request, apiKey);
    send(response, await found.route.handle(context, request, found.params, url));
  } catch (error) {
    if (error instanceof PaymentError) {
      send(response, errorReply(error));
      return;
    }
    // Never the message: it may say more about the internals than a caller should learn.
    logger.error({ err: error, method: request.method, path: url.pathname }, 'request failed');
    send(response, { status: 500, json: { error: { type: 'api_error', message: 'internal error' } } });
  }
}

async function closeServer(server: Server): Promise<void> {
  const closed = once(server, 'close');
  server.close();
  server.closeIdleConnections();
  const cut = setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS);
  await closed;
  clearTimeout(cut);
}

const hostForUrl = (host: string): string => {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
};
