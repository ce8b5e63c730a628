/**
 * The CreateBooking call the load generator (@ticket/bench runLoad) makes, in its worker processes: one seat
 * for a new order each time, on one stock, with checkout's service token. The same call drives booking and
 * the no-op BookingService (the transport limit), so the two runs differ only in the server.
 */
import { randomUUID } from 'node:crypto';
import { openBenchChannel } from '@ticket/bench';
import { BookingServiceDefinition } from '@ticket/contracts/v1/booking/booking_service';
import { type Client, createClient, type Metadata } from 'nice-grpc';
import { type ServiceCredentials, serviceCredentials } from './service-tokens.ts';

/** A plain nice-grpc client: no middleware, so the load generator spends as little CPU per call as it can. */
export type BookingClient = Client<typeof BookingServiceDefinition>;

export type StockKey = { eventId: string; ticketTypeId: string };

/** What every worker gets (JSON): where to call, on which stock, and the key to sign checkout's token with. */
export type HoldCallSetup = {
  address: string;
  /** Channels (HTTP/2 connections) per worker, round robin by call. */
  channels: number;
  stock: StockKey;
  serviceAuthSecret: string;
};

let clients: BookingClient[] | undefined;
let credentials: ServiceCredentials | undefined;
let signing: Promise<ServiceCredentials> | undefined;
let calls = 0;

/** One hold. The first call of a worker opens its channels and signs its token; later calls reuse both. */
export async function makeCall(
  setup: HoldCallSetup,
  _workerIndex: number,
  _callIndex: number,
  signal: AbortSignal,
): Promise<unknown> {
  clients ??= Array.from({ length: setup.channels }, () =>
    createClient(BookingServiceDefinition, openBenchChannel(setup.address)),
  );
  if (!credentials) {
    signing ??= serviceCredentials(setup.serviceAuthSecret, 'checkout');
    credentials = await signing;
  }
  const client = clients[calls++ % clients.length] as BookingClient;
  const metadata: Metadata = credentials.metadata();
  return client.createBooking(oneSeatHold(setup.stock), { signal, metadata });
}

/** One seat for a new order each time, as in a flash sale where every buyer is someone else. */
function oneSeatHold(stock: StockKey) {
  const orderId = randomUUID();
  return {
    eventId: stock.eventId,
    ticketTypeId: stock.ticketTypeId,
    orderId,
    userId: `bench-${orderId.slice(0, 8)}`,
    seats: 1,
    idempotencyKey: orderId,
  };
}
