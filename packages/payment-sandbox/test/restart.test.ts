import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, vi } from 'vitest';
import { clientOf, newPayment, startSandbox, test } from './fixtures.ts';

describe('a restart', () => {
  test('keeps payments, and delivers afterwards what the receiver had not acknowledged', async ({
    stateDir,
    receiver,
  }) => {
    const stateFile = join(stateDir, 'state.json');
    receiver.answer = () => 503;
    const first = await startSandbox({ stateFile, webhookUrl: receiver.url });
    const request = newPayment(3_000);
    const payment = await clientOf(first).createPayment(request);
    await clientOf(first).pay(payment.id, { outcome: 'succeed' });
    await vi.waitFor(() => expect(receiver.deliveries.length).toBeGreaterThanOrEqual(2));
    await first.stop();

    // A clean stop folds the journal into the state file: plain JSON, the whole state.
    const saved = JSON.parse(await readFile(stateFile, 'utf8')) as { deliveries: object };
    expect(Object.keys(saved.deliveries)).toHaveLength(1);

    receiver.answer = () => 200;
    const second = await startSandbox({ stateFile, webhookUrl: receiver.url });
    try {
      const client = clientOf(second);
      expect(await client.getPayment(payment.id)).toMatchObject({ id: payment.id, status: 'succeeded' });
      // The idempotency key still names the payment it made.
      expect((await client.createPayment(request)).id).toBe(payment.id);

      await vi.waitFor(() => expect(receiver.deliveries.at(-1)?.answered).toBe(200));
      expect(receiver.deliveries.filter((delivery) => delivery.answered === 200)).toHaveLength(1);
      expect(receiver.deliveries.at(-1)?.event.data.object).toMatchObject({ id: payment.id, status: 'succeeded' });
    } finally {
      await second.stop();
    }
  });

  test('keeps a late payment that had not fallen due', async ({ stateDir, receiver }) => {
    const stateFile = join(stateDir, 'state.json');
    const first = await startSandbox({ stateFile, webhookUrl: receiver.url });
    const { id } = await clientOf(first).createPayment(newPayment());
    await clientOf(first).pay(id, { outcome: 'decline', delayMs: 200 });
    await first.stop();

    const second = await startSandbox({ stateFile, webhookUrl: receiver.url });
    try {
      await vi.waitFor(async () => expect((await clientOf(second).getPayment(id)).status).toBe('failed'));
      await vi.waitFor(() => expect(receiver.deliveries.map((d) => d.event.type)).toEqual(['payment.failed']));
    } finally {
      await second.stop();
    }
  });
});
