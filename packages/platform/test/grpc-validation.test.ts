import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DomainError } from '../src/errors.ts';
import {
  countryCode,
  currencyCode,
  idempotencyKey,
  money,
  nonEmptyString,
  optionalText,
  pageSize,
  positiveInt32,
  uuid,
} from '../src/grpc/fields.ts';
import { parseRequest, protoPath } from '../src/grpc/validation.ts';

/** The DomainError parseRequest throws for this input. */
function rejection(schema: z.ZodType, request: unknown): DomainError {
  try {
    parseRequest(schema, request);
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected parseRequest to throw');
}

const accepts = (schema: z.ZodType, value: unknown): boolean => schema.safeParse(value).success;

describe('protoPath', () => {
  it('turns a ts-proto path into the proto field path', () => {
    expect(protoPath(['ticketTypes', 0, 'price', 'currency'])).toBe('ticket_types[0].price.currency');
    expect(protoPath(['idempotencyKey'])).toBe('idempotency_key');
    expect(protoPath(['items', 12])).toBe('items[12]');
    expect(protoPath(['name'])).toBe('name');
  });

  it('names a whole-request issue "request"', () => {
    expect(protoPath([])).toBe('request');
  });
});

describe('parseRequest', () => {
  const schema = z.object({
    eventId: uuid(),
    ticketTypes: z.array(z.object({ name: nonEmptyString(10), price: money(), seats: positiveInt32() })),
  });

  it('returns the parsed value', () => {
    const parsed = parseRequest(schema, {
      eventId: 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
      ticketTypes: [{ name: ' VIP ', price: { amountMinor: 0, currency: 'EUR' }, seats: 1 }],
    });
    expect(parsed).toEqual({
      eventId: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      ticketTypes: [{ name: 'VIP', price: { amountMinor: 0, currency: 'EUR' }, seats: 1 }],
    });
  });

  it('names every bad field, once, by its snake_case path, as INVALID_ARGUMENT', () => {
    const error = rejection(schema, {
      eventId: 'not-a-uuid',
      ticketTypes: [
        { name: 'ok', price: { amountMinor: 100, currency: 'usd' }, seats: 3 },
        { name: '', price: undefined, seats: -1 },
      ],
    });
    expect(error.kind).toBe('invalid_argument');
    expect(error.fieldViolations).toEqual([
      { field: 'event_id', description: 'must be a UUID' },
      { field: 'ticket_types[0].price.currency', description: expect.stringContaining('ISO 4217') },
      { field: 'ticket_types[1].name', description: 'must not be empty' },
      { field: 'ticket_types[1].price', description: 'is required' },
      { field: 'ticket_types[1].seats', description: 'must be positive' },
    ]);
    for (const { field } of error.fieldViolations) expect(error.message).toContain(field);
  });

  it('never puts the rejected input in the message', () => {
    const error = rejection(z.object({ cardNumber: z.string().max(4) }), { cardNumber: '4111111111111111' });
    expect(error.message).not.toContain('4111');
    expect(error.fieldViolations[0]?.field).toBe('card_number');
  });
});

describe('field schemas', () => {
  it('text fields refuse U+FFFD, which decoding puts in place of bytes that are not UTF-8', () => {
    for (const schema of [nonEmptyString(50), optionalText(50)]) {
      expect(schema.safeParse('Halle \uFFFD\uFFFD').error?.issues[0]?.message).toBe(
        'must be valid UTF-8 without U+FFFD replacement characters',
      );
      expect(accepts(schema, 'Halle Großes Haus ✓')).toBe(true);
    }
    expect(rejection(z.object({ name: nonEmptyString(50) }), { name: '\uFFFD' }).message).toContain('name');
  });

  it('uuid accepts UUIDs of any version and rejects the rest', () => {
    expect(accepts(uuid(), '0190f6a0-5b8c-7cc3-9d1e-0d6f1f1a2b3c')).toBe(true); // v7
    expect(accepts(uuid(), 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')).toBe(true);
    for (const bad of [
      '',
      'a0eebc99',
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1z',
      ' a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    ]) {
      expect(accepts(uuid(), bad)).toBe(false);
    }
    expect(uuid().safeParse('x').error?.issues[0]?.message).toBe('must be a UUID');
  });

  it('currencyCode accepts ISO 4217 codes in use, upper case only', () => {
    for (const code of ['EUR', 'USD', 'JPY', 'CHF', 'GBP']) expect(accepts(currencyCode(), code)).toBe(true);
    for (const code of ['eur', 'EURO', 'EU', '', 'ABC', 'ZZZ', 'US$'])
      expect(accepts(currencyCode(), code)).toBe(false);
  });

  it('countryCode accepts ISO 3166-1 alpha-2 codes, upper case only', () => {
    for (const code of ['DE', 'US', 'JP']) expect(accepts(countryCode(), code)).toBe(true);
    for (const code of ['de', 'DEU', 'QQ', 'ZZ', 'EU', 'UN', '']) expect(accepts(countryCode(), code)).toBe(false);
  });

  it('nonEmptyString trims and bounds the length', () => {
    expect(nonEmptyString(5).parse('  abc ')).toBe('abc');
    expect(accepts(nonEmptyString(5), '   ')).toBe(false);
    expect(accepts(nonEmptyString(5), 'abcdef')).toBe(false);
  });

  it('positiveInt32 stays within int32', () => {
    expect(accepts(positiveInt32(), 1)).toBe(true);
    expect(accepts(positiveInt32(), 2_147_483_647)).toBe(true);
    for (const bad of [0, -1, 1.5, 2_147_483_648]) expect(accepts(positiveInt32(), bad)).toBe(false);
  });

  it('money wants whole, non-negative minor units and a known currency', () => {
    expect(accepts(money(), { amountMinor: 0, currency: 'EUR' })).toBe(true);
    expect(accepts(money(), { amountMinor: -1, currency: 'EUR' })).toBe(false);
    expect(accepts(money(), { amountMinor: 1.5, currency: 'EUR' })).toBe(false);
    expect(accepts(money(), { amountMinor: 100, currency: 'XYZ' })).toBe(false);
  });

  it('pageSize turns 0 into the default, lowers sizes above the maximum and rejects negatives', () => {
    const size = pageSize({ fallback: 50, max: 500 });
    expect(size.parse(0)).toBe(50);
    expect(size.parse(20)).toBe(20);
    expect(size.parse(10_000)).toBe(500);
    expect(accepts(size, -1)).toBe(false);
  });

  it('idempotencyKey wants 1 to 128 printable characters without spaces', () => {
    expect(accepts(idempotencyKey(), 'order-7f3a/2024:1')).toBe(true);
    expect(accepts(idempotencyKey(), 'k'.repeat(128))).toBe(true);
    for (const bad of ['', 'k'.repeat(129), 'has space', 'tab\there', 'caf\u00e9', 'nul\u0000']) {
      expect(accepts(idempotencyKey(), bad)).toBe(false);
    }
  });
});
