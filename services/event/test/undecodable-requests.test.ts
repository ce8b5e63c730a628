import { Timestamp } from '@ticket/contracts/google/protobuf/timestamp';
import { CreateEventRequest } from '@ticket/contracts/v1/event/event_service';
import { createServiceClient } from '@ticket/platform';
import { callOutcome } from '@ticket/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventHarness, eventRequest, startEventHarness } from './harness.ts';

// Bytes a black-box client can send that the generated decoder refuses: they must be INVALID_ARGUMENT, never the
// INTERNAL grpc-js answers when a deserializer throws.

let harness: EventHarness;
beforeAll(async () => {
  harness = await startEventHarness();
});
afterAll(() => harness?.close());

/** A nice-grpc definition whose serializers pass bytes through, so the server decodes exactly what a test sends. */
function rawMethod(name: string) {
  const identity = (bytes: Uint8Array): Uint8Array => bytes;
  return {
    path: `/ticket.event.v1.EventService/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
    options: {},
  } as const;
}
const RawEventService = { createLocation: rawMethod('CreateLocation'), createEvent: rawMethod('CreateEvent') };

function rawClient() {
  const organizer = harness.tokens.organizer.token;
  return createServiceClient(RawEventService, `127.0.0.1:${harness.service.port}`, {
    deadlineMs: 10_000,
    retries: 0,
    credentials: async () => organizer,
  });
}

describe('request bytes the service cannot decode', () => {
  it('answers INVALID_ARGUMENT to CreateLocation with 0xff × 16, and keeps serving', async () => {
    const raw = rawClient();
    try {
      expect(await callOutcome(raw.client.createLocation(Buffer.alloc(16, 0xff)))).toBe(
        'INVALID_ARGUMENT: request is not a valid ticket.event.v1.CreateLocationRequest: invalid varint',
      );
      const location = { name: 'Arena', address: '', city: 'Berlin', countryCode: 'DE' };
      expect(await callOutcome(harness.client.createLocation(location))).toBe('OK');
    } finally {
      raw.close();
    }
  });

  it('answers INVALID_ARGUMENT naming a price of 2^53 minor units', async () => {
    const raw = rawClient();
    try {
      // ts-proto encodes 2^53 (a number it can hold exactly) but refuses to decode it, as beyond MAX_SAFE_INTEGER.
      const request = eventRequest();
      const price = { amountMinor: 2 ** 53, currency: 'EUR' };
      const bytes = CreateEventRequest.encode({ ...request, ticketTypes: [{ name: 'Standing', seats: 10, price }] });
      expect(await callOutcome(raw.client.createEvent(bytes.finish()))).toMatch(
        /^INVALID_ARGUMENT: request is not a valid ticket\.event\.v1\.CreateEventRequest: ticket_types\[0\]\.price\.amount_minor: is out of range/,
      );
    } finally {
      raw.close();
    }
  });

  it.each([
    ['nanos of -1', -1, 'starts_at.nanos'],
    ['nanos of 10^9', 1_000_000_000, 'starts_at.nanos'],
  ])(
    'answers INVALID_ARGUMENT to a starts_at with %s, which the generated decoder would quietly shift',
    async (_, nanos, field) => {
      const raw = rawClient();
      try {
        const request = eventRequest();
        // starts_at (field 4) written by hand: ts-proto only ever encodes valid nanos from a Date.
        const writer = CreateEventRequest.encode({ ...request, startsAt: undefined });
        const seconds = Math.floor((request.startsAt?.getTime() ?? 0) / 1000);
        Timestamp.encode({ seconds, nanos }, writer.uint32((4 << 3) | 2).fork()).join();
        expect(await callOutcome(raw.client.createEvent(writer.finish()))).toBe(
          `INVALID_ARGUMENT: ${field}: must be between 0 and 999999999`,
        );
      } finally {
        raw.close();
      }
    },
  );

  it('answers INVALID_ARGUMENT, not INTERNAL, to a CreateEvent whose location_id is not UTF-8 (found by the fuzz test)', async () => {
    const raw = rawClient();
    try {
      const writer = CreateEventRequest.encode({ ...eventRequest(), locationId: undefined });
      writer.uint32((6 << 3) | 2).bytes(Uint8Array.of(0xff));
      expect(await callOutcome(raw.client.createEvent(writer.finish()))).toMatch(/^INVALID_ARGUMENT: .*location_id/);
    } finally {
      raw.close();
    }
  });
});
