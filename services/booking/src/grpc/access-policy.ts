import { BookingServiceDefinition } from '@ticket/contracts/v1/booking/booking_service';
import { access, accessPolicy } from '@ticket/platform';

/**
 * Booking is internal: every RPC is for the other services only, each for the one whose job it is, so a leaked
 * token of one service cannot do the other's work. Event creates and deletes the stock of its ticket types;
 * checkout holds, sells and releases seats for its orders, puts sold seats back on sale when it refunds them, and
 * reads their holds (which name buyers). Users' tokens, even an admin's, are refused: no user has any business here.
 */
export const bookingAccessPolicy = accessPolicy(BookingServiceDefinition, {
  createStock: access.services('event'),
  deleteStock: access.services('event'),
  // Seat counts only, nobody's personal data: for event, whose stocks they are, and checkout, which sells them.
  getStocks: access.services('event', 'checkout'),
  getStock: access.services('event', 'checkout'),
  createBooking: access.services('checkout'),
  getBookings: access.services('checkout'),
  expireBookings: access.services('checkout'),
  deleteOrderBookings: access.services('checkout'),
  returnSoldSeats: access.services('checkout'),
});
