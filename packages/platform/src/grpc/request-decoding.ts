import { createFileRegistry, type DescField, type DescMessage, fromBinary, type Registry } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import type { CompatServiceDefinition, ServerMiddleware } from 'nice-grpc';
import { DomainError, type FieldViolation, invalidArgument } from '../errors.ts';

/**
 * Why this exists: grpc-js calls a method's request deserializer before any middleware runs, and answers a throw
 * with `INTERNAL: Error deserializing request`, which the error middleware never sees. ts-proto's `decode` throws
 * both on bytes that are not protobuf (bad tag, truncated length, wire type 7) and on int64 values beyond
 * ±(2^53−1), which it refuses to turn into a number. Both are the caller's mistake, so both must be
 * INVALID_ARGUMENT. The deserializer therefore never throws: on failure it returns an `UndecodableRequest` carrying
 * the error, and `rejectUndecodableRequests` (inside the error middleware, before authentication and handlers)
 * throws it, so it is mapped, logged and answered like any other invalid argument.
 */
export class UndecodableRequest {
  readonly error: DomainError;

  constructor(error: DomainError) {
    this.error = error;
  }
}

/**
 * Throws the error of a request that could not be decoded; lets every other call through untouched. On a
 * client-streaming call the error is thrown where the handler reads that message, so it ends the call the same way.
 */
export const rejectUndecodableRequests: ServerMiddleware = async function* rejectUndecodableRequests(call, context) {
  if (call.request instanceof UndecodableRequest) throw call.request.error;
  if (!call.requestStream) return yield* call.next(call.request, context);
  const requests = refuseUndecodable(call.request as AsyncIterable<unknown>) as typeof call.request;
  return yield* call.next(requests, context);
};

async function* refuseUndecodable(requests: AsyncIterable<unknown>): AsyncIterable<unknown> {
  for await (const request of requests) {
    if (request instanceof UndecodableRequest) throw request.error;
    yield request;
  }
}

/**
 * Explains why a request for a method could not be decoded. With the descriptor set it names the message
 * (`ticket.event.v1.CreateEventRequest`) and each out-of-range int64 by its proto path
 * (`ticket_types[0].price.amount_minor`); without it, it can only repeat the decoder's reason.
 */
export type DescribeDecodingError = (methodPath: string, bytes: Uint8Array, error: unknown) => DomainError;

/**
 * Wraps each method's request decoding of a ts-proto or grpc-js definition so that it never throws, and runs the
 * method's after-decode check (see createTimestampCheck), if it has one.
 */
export function guardRequestDecoding<Service extends CompatServiceDefinition>(
  definition: Service,
  describe: DescribeDecodingError,
  checkAfterDecode: AfterDecodeCheck = () => undefined,
): Service {
  const guarded = <Bytes extends Uint8Array>(path: string, decode: (bytes: Bytes) => unknown) =>
    guard(path, decode, describe, checkAfterDecode(path));
  if (isTsProtoDefinition(definition)) {
    const methods: Record<string, TsProtoMethod> = {};
    for (const [key, method] of Object.entries(definition.methods)) {
      const decode = guarded(`/${definition.fullName}/${method.name}`, method.requestType.decode);
      methods[key] = { ...method, requestType: { ...method.requestType, decode } };
    }
    return { ...definition, methods };
  }
  const methods: Record<string, GrpcJsMethod> = {};
  for (const [key, method] of Object.entries(definition as Record<string, GrpcJsMethod>)) {
    methods[key] = { ...method, requestDeserialize: guarded(method.path, method.requestDeserialize) };
  }
  return methods as Service;
}

interface TsProtoMethod {
  name: string;
  requestType: { decode(bytes: Uint8Array): unknown };
}

interface GrpcJsMethod {
  path: string;
  requestDeserialize(bytes: Buffer): unknown;
}

function isTsProtoDefinition(
  definition: CompatServiceDefinition,
): definition is CompatServiceDefinition & { fullName: string; methods: Record<string, TsProtoMethod> } {
  return 'fullName' in definition && 'methods' in definition;
}

function guard<Bytes extends Uint8Array>(
  methodPath: string,
  decode: (bytes: Bytes) => unknown,
  describe: DescribeDecodingError,
  check: ((bytes: Uint8Array) => FieldViolation[]) | undefined,
): (bytes: Bytes) => unknown {
  return (bytes) => {
    let request: unknown;
    try {
      request = decode(bytes);
    } catch (error) {
      return new UndecodableRequest(describe(methodPath, bytes, error));
    }
    const violations = check?.(bytes) ?? [];
    return violations.length === 0 ? request : new UndecodableRequest(invalidArgument(violations));
  };
}

/** The served protos' descriptors, decoded once per server, for the describer and the after-decode checks. */
export const requestRegistry = (descriptorSet: Uint8Array | undefined): Registry | undefined =>
  descriptorSet === undefined ? undefined : createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet));

/**
 * Builds the describer, from the served protos (requestRegistry); the describer re-reads a failed request with
 * @bufbuild/protobuf, which keeps int64 as bigint, to find the fields ts-proto could not convert.
 */
export function createDecodingErrorDescriber(registry: Registry | undefined): DescribeDecodingError {
  return (methodPath, bytes, error) => {
    const schema = registry === undefined ? undefined : requestSchema(registry, methodPath);
    const what = schema?.typeName ?? `request message of ${methodPath}`;
    const violations = schema === undefined ? [] : outOfRangeFields(schema, bytes);
    if (violations.length > 0) {
      return new DomainError('invalid_argument', `request is not a valid ${what}`, violations);
    }
    return new DomainError('invalid_argument', `request is not a valid ${what}: ${reasonOf(schema, bytes, error)}`);
  };
}

function requestSchema(registry: Registry, methodPath: string): DescMessage | undefined {
  const [, service, method] = methodPath.split('/');
  if (service === undefined || method === undefined) return undefined;
  return registry.getService(service)?.methods.find((candidate) => candidate.name === method)?.input;
}

/** @bufbuild/protobuf's reason when it fails too: it names the field of an illegal wire type, ts-proto does not. */
function reasonOf(schema: DescMessage | undefined, bytes: Uint8Array, error: unknown): string {
  if (schema !== undefined) {
    try {
      fromBinary(schema, bytes);
    } catch (strictError) {
      return messageOf(strictError);
    }
  }
  return messageOf(error);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The int64 fields (at any depth) whose value a JavaScript number cannot hold exactly. */
function outOfRangeFields(schema: DescMessage, bytes: Uint8Array): FieldViolation[] {
  const message = strictlyDecoded(schema, bytes);
  if (message === undefined) return [];
  const violations: FieldViolation[] = [];
  walkFields(schema, message, '', (value, path) => {
    if (typeof value === 'bigint' && (value > MAX_SAFE || value < MIN_SAFE)) {
      violations.push({ field: path, description: OUT_OF_RANGE });
    }
  });
  return violations;
}

/** The bytes read by @bufbuild/protobuf, which keeps int64 as bigint and is stricter than ts-proto; undefined if it fails. */
function strictlyDecoded(schema: DescMessage, bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    return fromBinary(schema, bytes) as unknown as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const OUT_OF_RANGE = `is out of range: must be between ${Number.MIN_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`;

/** Calls `visit` with every field value of `message` at any depth, each with its proto path. */
function walkFields(
  schema: DescMessage,
  message: Record<string, unknown>,
  prefix: string,
  visit: (value: unknown, path: string, field: DescField) => void,
): void {
  for (const field of schema.fields) {
    const path = `${prefix}${field.name}`;
    // A message (or a well-known wrapper, which arrives unboxed) recurses after being visited itself.
    const visitValue = (value: unknown, valuePath: string): void => {
      visit(value, valuePath, field);
      if (isMessageField(field) && typeof value === 'object' && value !== null) {
        walkFields(field.message, value as Record<string, unknown>, `${valuePath}.`, visit);
      }
    };
    const value = fieldValue(message, field);
    if (field.fieldKind === 'list') {
      for (const [index, item] of (value as unknown[]).entries()) visitValue(item, `${path}[${index}]`);
    } else if (field.fieldKind === 'map') {
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) visitValue(item, `${path}[${key}]`);
    } else {
      visitValue(value, path);
    }
  }
}

const TIMESTAMP = 'google.protobuf.Timestamp';
/** google.protobuf.Timestamp's own range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z. */
const MIN_TIMESTAMP_SECONDS = -62_135_596_800n;
const MAX_TIMESTAMP_SECONDS = 253_402_300_799n;

/**
 * A check run after a successful decode, for the methods whose request holds a google.protobuf.Timestamp (at any
 * depth): ts-proto turns a Timestamp into a Date as it decodes, silently accepting nanos of −1 or 10^9 (a Date 1 ms
 * early, 1 s late) and seconds no Date can hold. The check reads the bytes again with @bufbuild/protobuf and names
 * each such field. Methods without a Timestamp get no check, so their decoding costs nothing more.
 */
export type AfterDecodeCheck = (methodPath: string) => ((bytes: Uint8Array) => FieldViolation[]) | undefined;

export function createTimestampCheck(registry: Registry | undefined): AfterDecodeCheck {
  if (registry === undefined) return () => undefined;
  return (methodPath) => {
    const schema = requestSchema(registry, methodPath);
    if (schema === undefined || !holdsTimestamp(schema, new Set())) return undefined;
    return (bytes) => invalidTimestamps(schema, bytes);
  };
}

function holdsTimestamp(schema: DescMessage, seen: Set<string>): boolean {
  if (seen.has(schema.typeName)) return false;
  seen.add(schema.typeName);
  return schema.fields.some(
    (field) => isMessageField(field) && (field.message.typeName === TIMESTAMP || holdsTimestamp(field.message, seen)),
  );
}

function invalidTimestamps(schema: DescMessage, bytes: Uint8Array): FieldViolation[] {
  // Undecodable here but decoded by ts-proto (invalid UTF-8: it throws here, becomes U+FFFD there): the request
  // validation names such a field; this check has nothing to add.
  const message = strictlyDecoded(schema, bytes);
  if (message === undefined) return [];
  const violations: FieldViolation[] = [];
  walkFields(schema, message, '', (value, path, field) => {
    if (field.message?.typeName !== TIMESTAMP || typeof value !== 'object' || value === null) return;
    const { seconds, nanos } = value as { seconds: bigint; nanos: number };
    if (nanos < 0 || nanos > 999_999_999) {
      violations.push({ field: `${path}.nanos`, description: 'must be between 0 and 999999999' });
    }
    if (seconds < MIN_TIMESTAMP_SECONDS || seconds > MAX_TIMESTAMP_SECONDS) {
      violations.push({ field: `${path}.seconds`, description: 'must be between years 0001 and 9999' });
    }
  });
  return violations;
}

function isMessageField(field: DescField): field is DescField & { message: DescMessage } {
  return field.message !== undefined;
}

/** A oneof member lives under the oneof's name as `{ case, value }` in @bufbuild/protobuf messages. */
function fieldValue(message: Record<string, unknown>, field: DescField): unknown {
  if (field.oneof === undefined) return message[field.localName];
  const selected = message[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
  return selected?.case === field.localName ? selected.value : undefined;
}
