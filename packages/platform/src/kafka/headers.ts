import type { IHeaders } from 'kafkajs';

/**
 * Every event on a topic carries its id and type as headers, so consumers can deduplicate and
 * route without decoding the payload, and a dead-lettered message still says what it was.
 */
export const EventHeader = {
  id: 'event-id',
  type: 'event-type',
  contentType: 'content-type',
} as const;

export const PROTOBUF_CONTENT_TYPE = 'application/x-protobuf';

export function eventHeaders(eventId: string, eventType: string): IHeaders {
  return {
    [EventHeader.id]: eventId,
    [EventHeader.type]: eventType,
    [EventHeader.contentType]: PROTOBUF_CONTENT_TYPE,
  };
}

export function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}
