import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BookingServiceDefinition } from './generated/v1/booking/booking_service.ts';
import { CheckoutServiceDefinition } from './generated/v1/checkout/checkout_service.ts';
import { EventServiceDefinition } from './generated/v1/event/event_service.ts';
import { NotificationServiceDefinition } from './generated/v1/notification/notification_service.ts';

/**
 * Path of the FileDescriptorSet of every proto/v1 file and its imports
 * (google/protobuf/*), built by `npm run generate -w @ticket/contracts` with
 * `buf build proto --as-file-descriptor-set`. Includes source info, so
 * reflection clients (grpcurl describe) show the proto comments.
 */
export const descriptorSetPath: string = join(import.meta.dirname, 'generated', 'descriptor-set.binpb');

/** Reads the serialized FileDescriptorSet, e.g. for the server-reflection service. */
export function readDescriptorSet(): Buffer {
  return readFileSync(descriptorSetPath);
}

/** Fully-qualified names of every gRPC service of proto/v1, e.g. `ticket.booking.v1.BookingService`. */
export const serviceNames: readonly string[] = [
  EventServiceDefinition.fullName,
  BookingServiceDefinition.fullName,
  CheckoutServiceDefinition.fullName,
  NotificationServiceDefinition.fullName,
];
