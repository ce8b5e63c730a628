import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from 'vitest';
import { descriptorSetPath, readDescriptorSet, serviceNames } from '../src/descriptor-set.ts';
import { BookingServiceDefinition } from '../src/generated/v1/booking/booking_service.ts';
import {
  CheckoutServiceDefinition,
  type Order,
  OrderStatus,
  RefundReason,
  RefundStatus,
} from '../src/generated/v1/checkout/checkout_service.ts';
import { OrderEvent, OrderEventType } from '../src/generated/v1/checkout/order_events.ts';
import { EventServiceDefinition } from '../src/generated/v1/event/event_service.ts';
import { NotificationServiceDefinition } from '../src/generated/v1/notification/notification_service.ts';

const definitions = [
  EventServiceDefinition,
  BookingServiceDefinition,
  CheckoutServiceDefinition,
  NotificationServiceDefinition,
];

function paidOrder(): Order {
  const eur = (amountMinor: number) => ({ amountMinor, currency: 'EUR' });
  return {
    id: '3f1c2a8e-0b7d-4c49-9a57-1f2e3d4c5b6a',
    userId: 'a7d0c3b2-5e4f-4a1b-8c9d-0e1f2a3b4c5d',
    email: 'ada@example.org',
    status: OrderStatus.ORDER_STATUS_PAID,
    items: [
      {
        eventId: 'e0000000-0000-4000-8000-000000000001',
        ticketTypeId: 't0000000-0000-4000-8000-000000000001',
        ticketTypeName: 'Standing',
        unitPrice: eur(4_950),
        quantity: 2,
      },
    ],
    // Above 2^32, to prove int64 survives as a number.
    total: eur(9_007_199_254),
    createdAt: new Date('2025-05-01T10:00:00.123Z'),
    updatedAt: new Date('2025-05-01T10:05:00.456Z'),
    expiresAt: new Date('2025-05-01T10:15:00.000Z'),
    paidAt: new Date('2025-05-01T10:05:00.456Z'),
    paymentReference: 'pay_123',
    tickets: [
      {
        code: 'TK-7Q2M-9XHD',
        eventId: 'e0000000-0000-4000-8000-000000000001',
        ticketTypeId: 't0000000-0000-4000-8000-000000000001',
        voided: false,
      },
      {
        code: 'TK-3LZP-48WC',
        eventId: 'e0000000-0000-4000-8000-000000000001',
        ticketTypeId: 't0000000-0000-4000-8000-000000000001',
        voided: false,
      },
    ],
    failureReason: '',
    payment: { provider: 'sandbox', paymentId: 'pay_123', clientSecret: '', payUrl: 'https://pay.example.org/pay_123' },
    refunds: [],
  };
}

describe('OrderEvent', () => {
  it('round-trips money, timestamps and ticket codes through the wire format', () => {
    const event: OrderEvent = {
      eventId: '9b2e4f6a-1c3d-4e5f-8a9b-0c1d2e3f4a5b',
      eventType: OrderEventType.ORDER_EVENT_TYPE_PAID,
      occurredAt: new Date('2025-05-01T10:05:00.789Z'),
      order: paidOrder(),
      refundPaymentReference: '',
      refund: undefined,
    };

    const decoded = OrderEvent.decode(OrderEvent.encode(event).finish());

    expect(decoded).toEqual(event);
    expect(decoded.occurredAt).toBeInstanceOf(Date);
    expect(decoded.order?.total).toEqual({ amountMinor: 9_007_199_254, currency: 'EUR' });
    expect(decoded.order?.tickets.map((ticket) => ticket.code)).toEqual(['TK-7Q2M-9XHD', 'TK-3LZP-48WC']);
  });

  it('round-trips a refund with the ticket codes it voids', () => {
    const order = paidOrder();
    const refund = {
      id: '5d6e7f80-9a1b-4c2d-8e3f-405162738495',
      paymentId: 'pay_123',
      amount: { amountMinor: 4_950, currency: 'EUR' },
      reason: RefundReason.REFUND_REASON_REQUESTED,
      status: RefundStatus.REFUND_STATUS_SUCCEEDED,
      ticketCodes: ['TK-3LZP-48WC'],
      createdAt: new Date('2025-05-02T09:00:00.000Z'),
      refundedAt: new Date('2025-05-02T09:00:01.250Z'),
    };
    const event: OrderEvent = {
      eventId: '0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d',
      eventType: OrderEventType.ORDER_EVENT_TYPE_REFUNDED,
      occurredAt: new Date('2025-05-02T09:00:01.300Z'),
      order: {
        ...order,
        status: OrderStatus.ORDER_STATUS_PARTIALLY_REFUNDED,
        tickets: order.tickets.map((ticket) => ({ ...ticket, voided: ticket.code === 'TK-3LZP-48WC' })),
        refunds: [refund],
      },
      refundPaymentReference: '',
      refund,
    };

    const decoded = OrderEvent.decode(OrderEvent.encode(event).finish());

    expect(decoded).toEqual(event);
    expect(decoded.order?.tickets.map((ticket) => ticket.voided)).toEqual([false, true]);
  });

  it('leaves unset timestamps undefined and enums as plain numbers', () => {
    const decoded = OrderEvent.decode(
      OrderEvent.encode(OrderEvent.fromPartial({ eventType: OrderEventType.ORDER_EVENT_TYPE_CREATED })).finish(),
    );

    expect(decoded.occurredAt).toBeUndefined();
    expect(decoded.order).toBeUndefined();
    expect(decoded.eventType).toBe(1);
  });
});

describe('descriptor set', () => {
  const set = fromBinary(FileDescriptorSetSchema, readDescriptorSet());

  it('is read from the generated folder', () => {
    expect(descriptorSetPath).toMatch(/generated[/\\]descriptor-set\.binpb$/);
  });

  it('holds every proto/v1 file and its imports', () => {
    expect(set.file.map((file) => file.name).sort()).toEqual([
      'google/protobuf/timestamp.proto',
      'v1/booking/booking_events.proto',
      'v1/booking/booking_service.proto',
      'v1/checkout/checkout_service.proto',
      'v1/checkout/order_events.proto',
      'v1/common/money.proto',
      'v1/event/event_service.proto',
      'v1/notification/notification_service.proto',
    ]);
  });

  it('names every service, and serviceNames lists exactly those', () => {
    const inSet = set.file.flatMap((file) => file.service.map((service) => `${file.package}.${service.name}`)).sort();

    expect(inSet).toEqual([
      'ticket.booking.v1.BookingService',
      'ticket.checkout.v1.CheckoutService',
      'ticket.event.v1.EventService',
      'ticket.notification.v1.NotificationService',
    ]);
    expect([...serviceNames].sort()).toEqual(inSet);
    expect(definitions.map((definition) => definition.fullName).sort()).toEqual(inSet);
  });
});

describe('nice-grpc definitions', () => {
  const levels = Object.fromEntries(
    definitions.flatMap((definition) =>
      Object.values(definition.methods).map((method) => [
        `${definition.name}.${method.name}`,
        (method.options as { idempotencyLevel?: string }).idempotencyLevel ?? 'IDEMPOTENCY_UNKNOWN',
      ]),
    ),
  );

  it('carry the idempotency level of every RPC', () => {
    expect(levels).toEqual({
      'EventService.CreateLocation': 'IDEMPOTENCY_UNKNOWN',
      'EventService.ListLocations': 'NO_SIDE_EFFECTS',
      'EventService.CreateEvent': 'IDEMPOTENT',
      'EventService.GetEvent': 'NO_SIDE_EFFECTS',
      'EventService.ListEvents': 'NO_SIDE_EFFECTS',
      'EventService.GetTicket': 'NO_SIDE_EFFECTS',
      'BookingService.CreateStock': 'IDEMPOTENCY_UNKNOWN',
      'BookingService.GetStocks': 'NO_SIDE_EFFECTS',
      'BookingService.GetStock': 'NO_SIDE_EFFECTS',
      'BookingService.DeleteStock': 'IDEMPOTENCY_UNKNOWN',
      'BookingService.CreateBooking': 'IDEMPOTENT',
      'BookingService.GetBookings': 'NO_SIDE_EFFECTS',
      'BookingService.ExpireBookings': 'IDEMPOTENT',
      'BookingService.DeleteOrderBookings': 'IDEMPOTENT',
      'BookingService.ReturnSoldSeats': 'IDEMPOTENT',
      'CheckoutService.GetUserCart': 'NO_SIDE_EFFECTS',
      'CheckoutService.AddToCart': 'IDEMPOTENCY_UNKNOWN',
      'CheckoutService.UpdateCart': 'IDEMPOTENT',
      'CheckoutService.PlaceOrder': 'IDEMPOTENT',
      'CheckoutService.MarkOrderAsPaid': 'IDEMPOTENT',
      'CheckoutService.CancelOrder': 'IDEMPOTENCY_UNKNOWN',
      'CheckoutService.GetOrder': 'NO_SIDE_EFFECTS',
      'CheckoutService.ListOrders': 'NO_SIDE_EFFECTS',
      'CheckoutService.RefundOrder': 'IDEMPOTENT',
      'NotificationService.ListNotifications': 'NO_SIDE_EFFECTS',
    });
  });

  it('are unary, keyed by the lower-camel method name, with the wire path of the proto name', () => {
    const method = CheckoutServiceDefinition.methods.markOrderAsPaid;

    expect(`/${CheckoutServiceDefinition.fullName}/${method.name}`).toBe(
      '/ticket.checkout.v1.CheckoutService/MarkOrderAsPaid',
    );
    expect(method.requestStream).toBe(false);
    expect(method.responseStream).toBe(false);
  });
});
