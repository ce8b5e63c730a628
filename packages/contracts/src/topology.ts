/**
 * What the services agree on besides the protos: where each one listens by default, the Kafka topics its events
 * travel on and the type headers they carry (DESIGN.md). Service configs take their defaults from here, so `make up`, ticketctl and every service
 * name the same ports and topics.
 */

export const DefaultPort = {
  event: 50600,
  booking: 50610,
  checkout: 50620,
  notification: 50630,
} as const;

export type ServiceName = keyof typeof DefaultPort;

/**
 * HTTP ports beside the gRPC ones (kept apart from DefaultPort, whose keys are the gRPC services): checkout's
 * webhook endpoint and the sandbox payment provider that calls it (packages/payment-sandbox).
 */
export const DefaultHttpPort = {
  checkoutWebhooks: 50621,
  paymentSandbox: 50640,
} as const;

/** Each service's Prometheus endpoint (METRICS_PORT, `GET /metrics`), as `make up` and the compose files set it. */
export const DefaultMetricsPort: Record<ServiceName, number> = {
  event: 50609,
  booking: 50619,
  checkout: 50629,
  notification: 50639,
};

/** The address a service is reached at on this host by default, e.g. `127.0.0.1:50610`. */
export const localAddress = (service: ServiceName): string => `127.0.0.1:${DefaultPort[service]}`;

export const Topic = {
  /** checkout.v1.OrderEvent, keyed by order id: every order status change. */
  orderEvents: 'ticket.checkout.v1.order-events',
  /** booking.v1.BookingsExpired, keyed by order id: the holds of an order the sweep released. */
  bookingsExpired: 'ticket.booking.v1.bookings-expired',
} as const;

/** The `event-type` header each Kafka event carries: its change, named in the past tense under its proto package. */
export const EventTypeHeader = {
  orderCreated: 'ticket.checkout.v1.OrderCreated',
  orderPaid: 'ticket.checkout.v1.OrderPaid',
  orderCancelled: 'ticket.checkout.v1.OrderCancelled',
  orderExpired: 'ticket.checkout.v1.OrderExpired',
  orderFailed: 'ticket.checkout.v1.OrderFailed',
  orderPaymentFailed: 'ticket.checkout.v1.OrderPaymentFailed',
  orderRefunded: 'ticket.checkout.v1.OrderRefunded',
  latePaymentRefunded: 'ticket.checkout.v1.LatePaymentRefunded',
  bookingsExpired: 'ticket.booking.v1.BookingsExpired',
} as const;
