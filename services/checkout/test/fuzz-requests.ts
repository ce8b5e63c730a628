import {
  createFileRegistry,
  type DescField,
  type DescMessage,
  type FileRegistry,
  fromBinary,
  ScalarType,
  toJson,
} from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { readDescriptorSet } from '@ticket/contracts/descriptor-set';
import fc from 'fast-check';

// Requests for any message of proto/v1, generated from its descriptor (so a new field or RPC is covered without
// touching this file) and encoded by hand rather than by ts-proto: the generated encoder cannot write what a foreign
// client can send (int64 beyond 2^53, enum numbers the proto does not name, strings that are not UTF-8).

/** Every message and service of proto/v1 and their imports, from the committed descriptor set. */
export const registry: FileRegistry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readDescriptorSet()));

/** Bytes written where a string belongs, e.g. invalid UTF-8 (ts-proto's encoder only writes valid UTF-8). */
export interface RawString {
  utf8: number[];
}

/** A generated message: its fields by proto name (unset ones absent), values as they go on the wire. */
export interface FuzzMessage {
  [field: string]: FuzzValue;
}
export type FuzzValue = string | RawString | number | bigint | boolean | Uint8Array | FuzzMessage | FuzzValue[];

export interface FuzzOptions {
  /** Strings the running system knows (ids, user ids, page tokens), so generated requests also reach the handlers' later steps. */
  known: readonly string[];
  /** Largest strings: 1 MiB by default; beyond gRPC's 4 MiB the transport refuses the message (RESOURCE_EXHAUSTED). */
  hugeString?: number;
}

const INT32 = [0, -1, 1, 2 ** 31 - 1, -(2 ** 31)];
const UINT32 = [0, 1, 2 ** 32 - 1];
const INT64 = [0n, -1n, 1n, 2n ** 31n - 1n, 2n ** 53n - 1n, 2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n)];
const UINT64 = [0n, 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];

/** Byte sequences that are not UTF-8: a stray continuation byte, 0xff, an overlong '/', a surrogate, a cut-off é. */
const INVALID_UTF8: RawString[] = [
  { utf8: [0xff] },
  { utf8: [0x80] },
  { utf8: [0xc0, 0xaf] },
  { utf8: [0xed, 0xa0, 0x80] },
  { utf8: [0x41, 0xc3] },
  { utf8: [0xf8, 0x88, 0x80, 0x80, 0x80] },
  { utf8: [0x4c, 0x6f, 0x63, 0xfe, 0xff] },
];

/** Strings a person or a careless client might send: blanks, U+FFFD, control characters, SQL and LIKE patterns. */
const AWKWARD_STRINGS = [
  '',
  ' ',
  '\uFFFD',
  '\uFFFD\uFFFD',
  '\u0000',
  'a\u0000b',
  '\uD800',
  '🎫',
  'EUR',
  'eur',
  'DE',
  '1',
  '-1',
  '0',
  'null',
  '%',
  '_',
  "'; drop table orders; --",
  'buyer@example.com',
  'not an email',
  '2026-12-24T20:00:00Z',
];

function stringArbitrary(options: FuzzOptions): fc.Arbitrary<string | RawString> {
  const huge = options.hugeString ?? 1 << 20;
  const variants: fc.WeightedArbitrary<string | RawString>[] = [
    { weight: 3, arbitrary: fc.constantFrom(...AWKWARD_STRINGS) },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
    { weight: 1, arbitrary: fc.constantFrom(...INVALID_UTF8) },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ minLength: 1, maxLength: 16 }).map((bytes): RawString => ({ utf8: [...bytes] })),
    },
    { weight: 1, arbitrary: fc.constantFrom(1_000, 100_000, huge).map((length) => 'x'.repeat(length)) },
  ];
  if (options.known.length > 0) variants.push({ weight: 6, arbitrary: fc.constantFrom(...options.known) });
  return fc.oneof(...variants);
}

function scalarArbitrary(type: ScalarType, options: FuzzOptions): fc.Arbitrary<FuzzValue> {
  switch (type) {
    case ScalarType.STRING:
      return stringArbitrary(options);
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 64 });
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return fc.oneof(fc.integer({ min: 0, max: 10 }), fc.constantFrom(...INT32), fc.integer());
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.oneof(fc.integer({ min: 0, max: 10 }), fc.constantFrom(...UINT32), fc.nat());
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return fc.oneof(
        fc.bigInt({ min: 0n, max: 10_000n }),
        fc.constantFrom(...INT64),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      );
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return fc.oneof(
        fc.bigInt({ min: 0n, max: 10_000n }),
        fc.constantFrom(...UINT64),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      );
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return fc.oneof(fc.double(), fc.constantFrom(0, -1, Number.NaN, Number.POSITIVE_INFINITY));
  }
}

/** A Timestamp as a client would send one (around now, whole or odd nanos), or any pair of numbers. */
function timestampArbitrary(message: DescMessage, options: FuzzOptions, depth: number): fc.Arbitrary<FuzzValue> {
  const now = Math.floor(Date.now() / 1000);
  const plausible = fc.record({
    seconds: fc.integer({ min: now - 86_400 * 30, max: now + 86_400 * 400 }).map(BigInt),
    nanos: fc.oneof(fc.constant(0), fc.constantFrom(-1, 999_999_999, 1_000_000_000), fc.integer()),
  });
  return fc.oneof(
    { weight: 3, arbitrary: plausible },
    { weight: 1, arbitrary: messageArbitrary(message, options, depth) },
  );
}

function singleArbitrary(field: DescField, options: FuzzOptions, depth: number): fc.Arbitrary<FuzzValue> | undefined {
  const kind = field.fieldKind === 'list' ? field.listKind : field.fieldKind;
  if (kind === 'scalar' && field.scalar !== undefined) return scalarArbitrary(field.scalar, options);
  if (kind === 'enum' && field.enum) {
    const named = field.enum.values.map((value) => value.number);
    return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...named) }, fc.constantFrom(-1, 99, 2 ** 31 - 1));
  }
  if (kind === 'message' && field.message) {
    if (depth > 4) return undefined;
    if (field.message.typeName === 'google.protobuf.Timestamp')
      return timestampArbitrary(field.message, options, depth + 1);
    return messageArbitrary(field.message, options, depth + 1);
  }
  return undefined;
}

/** Any message of this type: each field set or not, with values from the field's type and its extremes. */
export function messageArbitrary(message: DescMessage, options: FuzzOptions, depth = 0): fc.Arbitrary<FuzzMessage> {
  const fields: Record<string, fc.Arbitrary<FuzzValue>> = {};
  for (const field of message.fields) {
    if (field.fieldKind === 'map') {
      // No map fields in proto/v1 yet: an entry is a message of key = 1, value = 2.
      throw new Error(`${message.typeName}.${field.name}: map fields are not generated yet`);
    }
    const single = singleArbitrary(field, options, depth);
    if (single === undefined) continue;
    fields[field.name] = field.fieldKind === 'list' ? fc.array(single, { maxLength: 4 }) : single;
  }
  return fc.record(fields, { requiredKeys: [] }) as fc.Arbitrary<FuzzMessage>;
}

/** The message's bytes, every field written as generated (a raw string's bytes as they are). */
export function encodeMessage(message: DescMessage, value: FuzzMessage, writer = new BinaryWriter()): BinaryWriter {
  for (const field of message.fields) {
    const fieldValue = value[field.name];
    if (fieldValue === undefined) continue;
    const values = field.fieldKind === 'list' ? (fieldValue as FuzzValue[]) : [fieldValue];
    for (const single of values) writeField(writer, field, single);
  }
  return writer;
}

function writeField(writer: BinaryWriter, field: DescField, value: FuzzValue): void {
  const kind = field.fieldKind === 'list' ? field.listKind : field.fieldKind;
  if (kind === 'message' && field.message) {
    writer.tag(field.number, WireType.LengthDelimited).fork();
    encodeMessage(field.message, value as FuzzMessage, writer);
    writer.join();
    return;
  }
  if (kind === 'enum') {
    writer.tag(field.number, WireType.Varint).int32(value as number);
    return;
  }
  if (field.scalar === undefined) throw new Error(`${field.name}: unsupported field kind ${kind}`);
  writeScalar(writer, field.number, field.scalar, value);
}

function writeScalar(writer: BinaryWriter, number: number, type: ScalarType, value: FuzzValue): void {
  switch (type) {
    case ScalarType.STRING:
      if (typeof value === 'string') writer.tag(number, WireType.LengthDelimited).string(value);
      else writer.tag(number, WireType.LengthDelimited).bytes(Uint8Array.from((value as RawString).utf8));
      return;
    case ScalarType.BYTES:
      writer.tag(number, WireType.LengthDelimited).bytes(value as Uint8Array);
      return;
    case ScalarType.BOOL:
      writer.tag(number, WireType.Varint).bool(value as boolean);
      return;
    case ScalarType.INT32:
      writer.tag(number, WireType.Varint).int32(value as number);
      return;
    case ScalarType.SINT32:
      writer.tag(number, WireType.Varint).sint32(value as number);
      return;
    case ScalarType.UINT32:
      writer.tag(number, WireType.Varint).uint32(value as number);
      return;
    case ScalarType.FIXED32:
      writer.tag(number, WireType.Bit32).fixed32(value as number);
      return;
    case ScalarType.SFIXED32:
      writer.tag(number, WireType.Bit32).sfixed32(value as number);
      return;
    case ScalarType.INT64:
      writer.tag(number, WireType.Varint).int64(value as bigint);
      return;
    case ScalarType.SINT64:
      writer.tag(number, WireType.Varint).sint64(value as bigint);
      return;
    case ScalarType.UINT64:
      writer.tag(number, WireType.Varint).uint64(value as bigint);
      return;
    case ScalarType.FIXED64:
      writer.tag(number, WireType.Bit64).fixed64(value as bigint);
      return;
    case ScalarType.SFIXED64:
      writer.tag(number, WireType.Bit64).sfixed64(value as bigint);
      return;
    case ScalarType.DOUBLE:
      writer.tag(number, WireType.Bit64).double(value as number);
      return;
    case ScalarType.FLOAT:
      writer.tag(number, WireType.Bit32).float(value as number);
      return;
  }
}

/** One change to a message's bytes; positions wrap around the message's length. */
export type ByteMutation =
  | { flip: number; bit: number }
  | { set: number; byte: number }
  | { truncateAt: number }
  | { insertAt: number; bytes: number[] }
  | { append: number[] };

const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ flip: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ set: fc.nat(), byte: fc.constantFrom(0x00, 0x07, 0x0f, 0x7f, 0x80, 0xff) }),
  fc.record({ truncateAt: fc.nat() }),
  fc.record({ insertAt: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }) }),
  fc.record({ append: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 16 }) }),
);

export function mutate(bytes: Uint8Array, mutations: readonly ByteMutation[]): Uint8Array {
  let out = [...bytes];
  for (const mutation of mutations) {
    const at = (position: number) => (out.length === 0 ? 0 : position % out.length);
    if ('flip' in mutation) {
      if (out.length > 0) out[at(mutation.flip)] = (out[at(mutation.flip)] ?? 0) ^ (1 << mutation.bit);
    } else if ('set' in mutation) {
      if (out.length > 0) out[at(mutation.set)] = mutation.byte;
    } else if ('truncateAt' in mutation) {
      out = out.slice(0, at(mutation.truncateAt));
    } else if ('insertAt' in mutation) {
      const position = at(mutation.insertAt);
      out = [...out.slice(0, position), ...mutation.bytes, ...out.slice(position)];
    } else {
      out = [...out, ...mutation.append];
    }
  }
  return Uint8Array.from(out);
}

/** A request as the fuzz test sends it: a generated message, possibly with its bytes mutated afterwards. */
export type FuzzRequest =
  | { kind: 'typed'; message: FuzzMessage }
  | { kind: 'mutated'; message: FuzzMessage; mutations: ByteMutation[] };

/** Requests of type `input`: mostly well-typed messages, a quarter of them with their encoded bytes mutated. */
export function requestArbitrary(input: DescMessage, options: FuzzOptions): fc.Arbitrary<FuzzRequest> {
  const message = messageArbitrary(input, options);
  return fc.oneof(
    { weight: 3, arbitrary: message.map((value): FuzzRequest => ({ kind: 'typed', message: value })) },
    {
      weight: 1,
      arbitrary: fc
        .record({ message, mutations: fc.array(byteMutation, { minLength: 1, maxLength: 4 }) })
        .map((value): FuzzRequest => ({ kind: 'mutated', ...value })),
    },
  );
}

export function requestBytes(input: DescMessage, request: FuzzRequest): Uint8Array {
  const bytes = encodeMessage(input, request.message).finish();
  return request.kind === 'mutated' ? mutate(bytes, request.mutations) : bytes;
}

/**
 * The ids and tokens in a response (fields named id, …_id, …_token, code), which later requests may reuse; a
 * response this registry cannot read yields none.
 */
export function knownStrings(output: DescMessage, bytes: Uint8Array): string[] {
  let json: unknown;
  try {
    json = toJson(output, fromBinary(output, bytes), { registry });
  } catch {
    return [];
  }
  const found: string[] = [];
  const walk = (value: unknown, key: string): void => {
    if (Array.isArray(value)) for (const item of value) walk(item, key);
    else if (value !== null && typeof value === 'object')
      for (const [name, inner] of Object.entries(value)) walk(inner, name);
    else if (typeof value === 'string' && value.length <= 200 && /(^id|Id|Token|^code)$/.test(key)) found.push(value);
  };
  walk(json, '');
  return found;
}
