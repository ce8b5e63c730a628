import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SandboxEvent } from './payments.ts';

// Webhook signatures in Stripe's scheme, so that a receiver written for one reads like one written for the other:
// `Sandbox-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. The timestamp is signed
// with the body, so a captured delivery cannot be replayed once it is older than the tolerance.

export const SIGNATURE_HEADER = 'sandbox-signature';

/** A webhook whose signature does not verify (or whose verified body is no sandbox event): answer it 400. */
export class SandboxSignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxSignatureError';
  }
}

const unixSeconds = (): number => Math.floor(Date.now() / 1000);

const hmac = (secret: string, timestamp: number, body: Buffer | string): string =>
  createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');

/** The `Sandbox-Signature` header value for `body`, signed now unless `timestamp` (unix seconds) says otherwise. */
export function signSandboxPayload(body: Buffer | string, secret: string, timestamp = unixSeconds()): string {
  return `t=${timestamp},v1=${hmac(secret, timestamp, body)}`;
}

/**
 * Verifies a webhook exactly as it arrived (the raw bytes: parsing and re-serialising the JSON would change them)
 * and returns the event. Throws SandboxSignatureError when the header is missing or malformed, no `v1` signature
 * matches, or the timestamp is more than `toleranceSeconds` away from now (either way: a clock far ahead is as
 * suspect as a replay).
 */
export function constructSandboxEvent(
  rawBody: Buffer | string,
  signatureHeader: string | string[] | undefined,
  secret: string,
  toleranceSeconds = 300,
): SandboxEvent {
  const { timestamp, signatures } = parseSignatureHeader(signatureHeader);
  const expected = Buffer.from(hmac(secret, timestamp, rawBody), 'hex');
  // Several v1 values may come during a secret rotation; any one matching is enough.
  const matches = signatures.some((signature) => {
    const given = Buffer.from(signature, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new SandboxSignatureError('no signature matches the body');
  if (Math.abs(unixSeconds() - timestamp) > toleranceSeconds) {
    throw new SandboxSignatureError(`timestamp outside the tolerance of ${toleranceSeconds} s`);
  }
  return parseEvent(rawBody);
}

function parseSignatureHeader(header: string | string[] | undefined): { timestamp: number; signatures: string[] } {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!value) throw new SandboxSignatureError(`no ${SIGNATURE_HEADER} header`);
  const pairs = value.split(',').map((part) => part.trim().split('=', 2) as [string, string | undefined]);
  const timestamps = pairs.filter(([key]) => key === 't').map(([, v]) => v ?? '');
  const signatures = pairs.filter(([key, v]) => key === 'v1' && v !== undefined && /^[0-9a-f]+$/i.test(v));
  const timestamp = Number(timestamps[0]);
  if (timestamps.length !== 1 || !/^\d+$/.test(timestamps[0] ?? '') || !Number.isSafeInteger(timestamp)) {
    throw new SandboxSignatureError(`${SIGNATURE_HEADER} needs exactly one t=<unix seconds>`);
  }
  if (signatures.length === 0) throw new SandboxSignatureError(`${SIGNATURE_HEADER} has no v1 signature`);
  return { timestamp, signatures: signatures.map(([, v]) => v ?? '') };
}

/** The body was signed by whoever holds the secret, so a shape check is enough: it names the event and its object. */
function parseEvent(rawBody: Buffer | string): SandboxEvent {
  let event: unknown;
  try {
    event = JSON.parse(rawBody.toString());
  } catch {
    throw new SandboxSignatureError('the signed body is not JSON');
  }
  const candidate = event as Partial<SandboxEvent> | null;
  if (
    typeof candidate?.id !== 'string' ||
    typeof candidate.type !== 'string' ||
    typeof candidate.data?.object !== 'object' ||
    candidate.data.object === null
  ) {
    throw new SandboxSignatureError('the signed body is not a sandbox event');
  }
  return candidate as SandboxEvent;
}
