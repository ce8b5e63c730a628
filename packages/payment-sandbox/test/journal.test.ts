import { appendFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { journalPathOf } from '../src/state-file.ts';
import { PaymentStore } from '../src/store.ts';

const directories: string[] = [];
const stores: PaymentStore[] = [];

afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
  await Promise.all(directories.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function newDirectory(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'payment-sandbox-journal-'));
  directories.push(dir);
  return dir;
}

async function openStore(stateFile: string): Promise<PaymentStore> {
  const store = await PaymentStore.open(stateFile, (id) => `http://sandbox.test/pay/${id}`);
  stores.push(store);
  return store;
}

/**
 * The files as a crash would leave them: a copy taken while the store is open, before closing folds the journal
 * into the snapshot.
 */
async function crashImage(dir: string): Promise<string> {
  const copy = await newDirectory();
  await cp(dir, copy, { recursive: true });
  return join(copy, 'state.json');
}

let orders = 0;
const paymentInput = () => ({ amount_minor: 1_000, currency: 'EUR', order_id: `order-${++orders}`, description: 'x' });

const journalLines = async (stateFile: string): Promise<string[]> =>
  (await readFile(journalPathOf(stateFile), 'utf8')).split('\n').filter((line) => line !== '');

const snapshotOf = async (stateFile: string) =>
  JSON.parse(await readFile(stateFile, 'utf8')) as { version: number; payments: Record<string, unknown> };

describe('the journal', () => {
  test('saves each change as one line, and a reopen replays them all and folds them into the state file', async () => {
    const dir = await newDirectory();
    const store = await openStore(join(dir, 'state.json'));
    const ids: string[] = [];
    for (let n = 0; n < 20; n++) {
      const { id } = await store.createPayment(`key-${n}`, paymentInput());
      ids.push(id);
      if (n % 2 === 0) await store.pay(id, 'succeed');
    }
    const crashed = await crashImage(dir);
    // 20 payments and 10 payings; no snapshot written since the (empty) start.
    expect(await journalLines(crashed)).toHaveLength(30);

    const reopened = await openStore(crashed);
    expect(ids.map((id) => reopened.getPayment(id).status)).toEqual(
      ids.map((_, n) => (n % 2 === 0 ? 'succeeded' : 'requires_payment')),
    );
    // The idempotency keys came back too: the same key with another request is refused.
    await expect(reopened.createPayment('key-3', paymentInput())).rejects.toMatchObject({
      type: 'idempotency_conflict',
    });
    // Compacted: the state file holds everything, the journal starts empty.
    expect(Object.keys((await snapshotOf(crashed)).payments).sort()).toEqual([...ids].sort());
    expect(await journalLines(crashed)).toEqual([]);
    expect(reopened.pendingDeliveries()).toHaveLength(10);
  });

  test('ignores a last line cut short by a crash and keeps every change before it', async () => {
    const dir = await newDirectory();
    const store = await openStore(join(dir, 'state.json'));
    const first = await store.createPayment('a', paymentInput());
    const second = await store.createPayment('b', paymentInput());
    const crashed = await crashImage(dir);
    await appendFile(journalPathOf(crashed), '{"put":[["payments","pay_torn",{"id":"pay_t');

    const reopened = await openStore(crashed);
    expect(reopened.getPayment(first.id)).toEqual(first);
    expect(reopened.getPayment(second.id)).toEqual(second);
    expect(() => reopened.getPayment('pay_torn')).toThrow(/no payment/);
    expect(await journalLines(crashed)).toEqual([]);

    // Appends after the dropped line replay too.
    const third = await reopened.createPayment('c', paymentInput());
    const again = await openStore(await crashImage(dirname(crashed)));
    expect(again.getPayment(third.id)).toEqual(third);
  });

  test('refuses a journal with a bad line before its last, naming the line', async () => {
    const dir = await newDirectory();
    const store = await openStore(join(dir, 'state.json'));
    await store.createPayment('a', paymentInput());
    await store.createPayment('b', paymentInput());
    const crashed = await crashImage(dir);
    const [line1, line2] = await journalLines(crashed);
    await writeFile(journalPathOf(crashed), `${line1}\n${line2?.slice(0, 20)}\n${line2}\n`);

    await expect(openStore(crashed)).rejects.toThrow(/state\.json\.journal: line 2 is not JSON/);
  });

  test('refuses an entry for a collection the state does not have', async () => {
    const dir = await newDirectory();
    const stateFile = join(dir, 'state.json');
    await writeFile(journalPathOf(stateFile), '{"put":[["version","x",2]],"delete":[]}\n{"put":[],"delete":[]}\n');

    await expect(openStore(stateFile)).rejects.toThrow(/line 1: no collection "version"/);
  });

  test('shares one disk write among concurrent changes', async () => {
    const dir = await newDirectory();
    const stateFile = join(dir, 'state.json');
    const store = await openStore(stateFile);
    const calls = 50;
    const payments = await Promise.all(
      Array.from({ length: calls }, (_, n) => store.createPayment(`burst-${n}`, paymentInput())),
    );

    // One entry per change, but the writes (each one fdatasync) are grouped: far fewer than the calls.
    expect(await journalLines(stateFile)).toHaveLength(calls);
    expect(store.journalWrites).toBeLessThanOrEqual(2);
    const reopened = await openStore(await crashImage(dir));
    for (const payment of payments) expect(reopened.getPayment(payment.id)).toEqual(payment);
  });

  test('loads a state file written whole by an older sandbox, and refuses another version', async () => {
    const dir = await newDirectory();
    const stateFile = join(dir, 'state.json');
    const payment = { id: 'pay_old', object: 'payment', status: 'succeeded', amount_minor: 500 };
    await writeFile(stateFile, JSON.stringify({ version: 1, payments: { pay_old: payment } }, null, 2));

    const store = await openStore(stateFile);
    expect(store.getPayment('pay_old')).toEqual(payment);
    expect(store.listEvents()).toEqual([]);

    await writeFile(stateFile, JSON.stringify({ version: 2, payments: {} }));
    await expect(openStore(stateFile)).rejects.toThrow(/state version 2, expected 1/);
  });

  test('closing folds the journal into the state file and refuses later changes', async () => {
    const dir = await newDirectory();
    const stateFile = join(dir, 'state.json');
    const store = await PaymentStore.open(stateFile, (id) => `http://sandbox.test/pay/${id}`);
    const { id } = await store.createPayment('a', paymentInput());
    await store.close();

    expect(Object.keys((await snapshotOf(stateFile)).payments)).toEqual([id]);
    expect(await journalLines(stateFile)).toEqual([]);
    await expect(store.createPayment('b', paymentInput())).rejects.toThrow(/closed/);
  });
});
