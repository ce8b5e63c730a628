import type { BookingServiceImplementation } from '@ticket/contracts/v1/booking/booking_service';
import { parseRequest } from '@ticket/platform';
import type { BookingContext } from '../app/context.ts';
import type { HoldBatcher } from '../app/create-booking.ts';
import { getBookings, releaseBookings, sellOrderBookings } from '../app/order-bookings.ts';
import { returnSoldSeats } from '../app/return-sold-seats.ts';
import { createStock, deleteStock, getStock, getStocks } from '../app/stocks.ts';
import { toBookingMessage, toStockMessage } from '../mapping.ts';
import {
  createBookingRequest,
  createStockRequest,
  expireBookingsRequest,
  getBookingsRequest,
  getStocksRequest,
  orderRequest,
  returnSoldSeatsRequest,
  stockKeyRequest,
} from './requests.ts';

/**
 * The BookingService port: validate, call the use case, map back. Booking is an internal service: the auth
 * middleware admits only event's and checkout's service tokens (bookingAccessPolicy), so it trusts the user id
 * checkout gives it (checkout authenticated the buyer).
 */
export function bookingService(context: BookingContext, holds: HoldBatcher): BookingServiceImplementation {
  return {
    async createStock(request) {
      const { seatsTotal, ...key } = parseRequest(createStockRequest, request);
      return { stock: toStockMessage(await createStock(context, key, seatsTotal)) };
    },
    async getStocks(request) {
      const { eventId, ticketTypeId } = parseRequest(getStocksRequest, request);
      return { stocks: (await getStocks(context, eventId, ticketTypeId)).map(toStockMessage) };
    },
    async getStock(request) {
      return { stock: toStockMessage(await getStock(context, parseRequest(stockKeyRequest, request))) };
    },
    async deleteStock(request) {
      await deleteStock(context, parseRequest(stockKeyRequest, request));
      return {};
    },
    async createBooking(request) {
      return { booking: toBookingMessage(await holds.hold(parseRequest(createBookingRequest, request))) };
    },
    async getBookings(request) {
      const { orderId, includeExpired } = parseRequest(getBookingsRequest, request);
      return { bookings: (await getBookings(context, orderId, includeExpired)).map(toBookingMessage) };
    },
    async expireBookings(request) {
      const { orderId, bookingIds } = parseRequest(expireBookingsRequest, request);
      return { bookings: (await releaseBookings(context, orderId, bookingIds)).map(toBookingMessage) };
    },
    async deleteOrderBookings(request) {
      const { orderId } = parseRequest(orderRequest, request);
      return { bookings: (await sellOrderBookings(context, orderId)).map(toBookingMessage) };
    },
    async returnSoldSeats(request) {
      const command = parseRequest(returnSoldSeatsRequest, request);
      return { bookings: (await returnSoldSeats(context, command)).map(toBookingMessage) };
    },
  };
}
