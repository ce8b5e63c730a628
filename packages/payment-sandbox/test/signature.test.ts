import { describe, expect, it } from 'vitest';
import { constructSandboxEvent, SandboxSignatureError, signSandboxPayload } from '../src/index.ts';

const SECRET = 'whsec-test-0123456789abcdef';
const body = JSON.stringify({
  id: 'evt_1',
  object: 'event',
  type: 'payment.succeeded',
  created: 1,
  data: { object: { id: 'pay_1', amount_minor: 1_000, currency: 'EUR', order_id: 'o-1' } },
});
const now = () => Math.floor(Date.now() / 1000);

describe('webhook signatures', () => {
  it('accepts the body as signed, as a string or as bytes', () => {
    const header = signSandboxPayload(body, SECRET);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(constructSandboxEvent(body, header, SECRET).id).toBe('evt_1');
    expect(constructSandboxEvent(Buffer.from(body), header, SECRET).type).toBe('payment.succeeded');
  });

  it('rejects a tampered body', () => {
    const header = signSandboxPayload(body, SECRET);
    const tampered = body.replace('"amount_minor":1000', '"amount_minor":1');
    expect(() => constructSandboxEvent(tampered, header, SECRET)).toThrow(SandboxSignatureError);
  });

  it('rejects a signature made with another secret', () => {
    const header = signSandboxPayload(body, 'another-secret-0123456789');
    expect(() => constructSandboxEvent(body, header, SECRET)).toThrow(SandboxSignatureError);
  });

  it('rejects a timestamp outside the tolerance, in the past or the future', () => {
    expect(() => constructSandboxEvent(body, signSandboxPayload(body, SECRET, now() - 301), SECRET)).toThrow(
      /tolerance/,
    );
    expect(() => constructSandboxEvent(body, signSandboxPayload(body, SECRET, now() + 301), SECRET)).toThrow(
      /tolerance/,
    );
    expect(constructSandboxEvent(body, signSandboxPayload(body, SECRET, now() - 250), SECRET).id).toBe('evt_1');
    expect(() => constructSandboxEvent(body, signSandboxPayload(body, SECRET, now() - 20), SECRET, 10)).toThrow(
      SandboxSignatureError,
    );
  });

  it('rejects a missing or malformed header, and accepts any one of several v1 signatures', () => {
    expect(() => constructSandboxEvent(body, undefined, SECRET)).toThrow(SandboxSignatureError);
    expect(() => constructSandboxEvent(body, 'v1=abc', SECRET)).toThrow(SandboxSignatureError);
    expect(() => constructSandboxEvent(body, `t=${now()}`, SECRET)).toThrow(SandboxSignatureError);
    const header = signSandboxPayload(body, SECRET);
    const rotated = `${header.replace(/v1=.*/, `v1=${'0'.repeat(64)}`)},${header.split(',')[1]}`;
    expect(constructSandboxEvent(body, rotated, SECRET).id).toBe('evt_1');
  });

  it('rejects a signed body that is no event', () => {
    const notAnEvent = '{"hello":"world"}';
    expect(() => constructSandboxEvent(notAnEvent, signSandboxPayload(notAnEvent, SECRET), SECRET)).toThrow(
      /not a sandbox event/,
    );
  });
});
