import {
  type Booking as BookingMessage,
  BookingStatus,
  type Stock as StockMessage,
} from '@ticket/contracts/v1/booking/booking_service';
import {
  type Booking,
  type BookingStatus as DomainBookingStatus,
  type StockReading,
  seatsOnSale,
} from './domain/booking.ts';

// Domain ↔ contract, for the gRPC handlers and the Kafka events alike.

const statusToProto: Record<DomainBookingStatus, BookingStatus> = {
  HELD: BookingStatus.BOOKING_STATUS_HELD,
  SOLD: BookingStatus.BOOKING_STATUS_SOLD,
  RELEASED: BookingStatus.BOOKING_STATUS_RELEASED,
  EXPIRED: BookingStatus.BOOKING_STATUS_EXPIRED,
};

export const toStockMessage = (stock: StockReading): StockMessage => ({
  id: stock.id,
  eventId: stock.eventId,
  ticketTypeId: stock.ticketTypeId,
  seatsTotal: stock.seatsTotal,
  seatsBooked: stock.seatsBooked,
  seatsAvailable: seatsOnSale(stock),
  createdAt: stock.createdAt,
});

export const toBookingMessage = (booking: Booking): BookingMessage => ({
  id: booking.id,
  orderId: booking.orderId,
  userId: booking.userId,
  stockId: booking.stockId,
  eventId: booking.eventId,
  ticketTypeId: booking.ticketTypeId,
  seats: booking.seats,
  status: statusToProto[booking.status],
  createdAt: booking.createdAt,
  expiresAt: booking.expiresAt,
  seatsReturned: booking.seatsReturned,
});
