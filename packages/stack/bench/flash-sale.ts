#!/usr/bin/env node
// `make bench-flash-sale`: more buyers than seats, arriving at a fixed rate, on the running stack (`make start`):
// AddToCart → PlaceOrder → pay on the sandbox provider's pay page. What a ticket seller cares about: buyers served
// per second, how long PlaceOrder takes under the rush, that no seat is sold twice, and the emails. See README.md.
import { randomUUID } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { measurePerRequestBaseline } from '@ticket/booking/bench/baseline';
import { BookingServiceDefinition } from '@ticket/contracts/v1/booking/booking_service';
import { createServiceClient, createServiceTokenSource } from '@ticket/platform';
import { defaultStateDir, devSecretFile, mailDir, readMailbox, type ServiceStatus } from '@ticket/stack';
import { ClientError, Status } from 'nice-grpc';
import { clockTicksPerSecond, readProcess } from './proc.ts';
import { MAX_TRUSTED_START_LAG_MS, percentile } from './summary.ts';
import { NotRunnable, openTarget, servingStack, type Target } from './target.ts';

/** The refusals a sold-out sale answers with: a buyer who got no seat, not a failure of the system. */
const SOLD_OUT = new Set([Status.RESOURCE_EXHAUSTED]);
/** A buyer's result when PlaceOrder refused for want of seats. */
const SOLD_OUT_RESULT = `sold out (${Status[Status.RESOURCE_EXHAUSTED]})`;
/** Buyers of the unmeasured warm-up sale. */
const WARM_UP_BUYERS = 200;
/** How long the emails of the paid orders may take to reach the mail catcher after the last payment. */
const MAIL_WAIT_MS = 60_000;

interface FlashSaleConfig {
  buyers: number;
  seats: number;
  /** Buyers arriving per second (open loop). */
  rate: number;
  /** After the sale at `rate`: further sales at rising rates, up to the highest that keeps PlaceOrder's p99 in bounds. */
  search: boolean;
}

/** The PlaceOrder p99 (from each buyer's due time) a sale must keep for its rate to count as held. */
const P99_BOUND_MS = 250;
/** Each search step's rate over the last one's. */
const SEARCH_FACTOR = 1.5;
/** Sales of the search at most, the first one included. */
const SEARCH_STEPS = 8;

class FlashSaleConfigError extends Error {
  override name = 'FlashSaleConfigError';
}

function loadConfig(source: Record<string, string | undefined> = process.env): FlashSaleConfig {
  const problems: string[] = [];
  const read = (name: string, fallback: number): number => {
    const raw = source[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) problems.push(`${name}: must be a positive integer (got "${raw}")`);
    return value;
  };
  const config = {
    buyers: read('BENCH_BUYERS', 1_000),
    seats: read('BENCH_SEATS', 100),
    rate: read('BENCH_RATE', 50),
    search: source.BENCH_SEARCH?.trim() !== '0',
  };
  if (problems.length === 0 && config.seats >= config.buyers) {
    problems.push(
      `BENCH_SEATS (${config.seats}) must be fewer than BENCH_BUYERS (${config.buyers}): a sale that sells out`,
    );
  }
  if (problems.length > 0) throw new FlashSaleConfigError(problems.join('; '));
  return config;
}

interface BuyerOutcome {
  /** performance.now() when the buyer was due. */
  dueAt: number;
  startLagMs: number;
  addToCartMs?: number;
  /** PlaceOrder's answer, measured from when the buyer was due (a late start counts). */
  placeOrderMs?: number;
  payMs?: number;
  /** Epoch ms when the pay page accepted the payment: the start of the wait for the email. */
  paidAtEpochMs?: number;
  email: string;
  /** "OK", SOLD_OUT_RESULT, or the failure: the step and its gRPC status or error name. */
  result: string;
  message?: string;
}

async function main(): Promise<number> {
  const config = loadConfig();
  const stateDir = defaultStateDir();
  const statuses = await servingStack(stateDir);
  const target = await openTarget(stateDir, statuses);
  const runId = `flash-${randomUUID().slice(0, 8)}`;
  try {
    await warmUp(target, runId, config);
    const first = await runSale(target, stateDir, statuses, `${runId}-${config.rate}`, config, config.rate);
    console.log(formatReport(first));
    const sales = [first];
    if (config.search) {
      // Up while the sales hold; down, when the first one did not, until one holds.
      const upward = holds(first);
      let rate = config.rate;
      while (sales.length < SEARCH_STEPS && holds(sales.at(-1) as Report) === upward) {
        rate = upward ? Math.round(rate * SEARCH_FACTOR) : Math.floor(rate / SEARCH_FACTOR);
        if (rate < 1) break;
        sales.push(await runSale(target, stateDir, statuses, `${runId}-${rate}`, config, rate));
      }
      console.log(formatSearch(sales));
    }
    console.log(formatBaseline(sales, await measureBaseline()));
    return sales.some((sale) => problemsOf(sale).length > 0) ? 1 : 0;
  } finally {
    target.close();
  }
}

/** One sale: a fresh event of `config.seats` seats, `config.buyers` buyers arriving at `rate`, then the checks. */
async function runSale(
  target: Target,
  stateDir: string,
  statuses: readonly ServiceStatus[],
  runId: string,
  config: FlashSaleConfig,
  rate: number,
): Promise<Report> {
  const { eventId, ticketTypeId } = await createEvent(target, runId, config.seats);
  console.log(`load: ${config.buyers} buyers for ${config.seats} seats, arriving at ${rate}/s`);
  const clock = clockTicksPerSecond();
  const cpuBefore = await cpuOf(statuses, clock.ticks);
  const generatorBefore = process.cpuUsage();
  const startedAt = performance.now() + 5;
  const outcomes = await runBuyers(target, runId, ticketTypeId, { ...config, rate }, startedAt);
  const loadMs = performance.now() - startedAt;
  const generatorCpuMs = cpuMsOf(process.cpuUsage(generatorBefore));
  const cpuAfter = await cpuOf(statuses, clock.ticks);
  return {
    config: { ...config, rate },
    outcomes,
    loadMs,
    generatorCpuMs,
    serviceCpuMs: Object.fromEntries(
      statuses.map((s) => [s.name, (cpuAfter[s.name] ?? Number.NaN) - (cpuBefore[s.name] ?? Number.NaN)]),
    ),
    stock: await readStock(stateDir, statuses, eventId, ticketTypeId),
    mail: await awaitEmails(stateDir, outcomes),
  };
}

/** pgbench clients of the baseline: fewer than bench-booking's 64, as the running stack holds connections too. */
const BASELINE_CLIENTS = 32;
const BASELINE_SECONDS = 10;

/** The per-request baseline (one hot-row transaction per buyer, pgbench), measured now on the same machine. */
async function measureBaseline() {
  console.log(`baseline: pgbench, one transaction per hold, ${BASELINE_CLIENTS} clients, ${BASELINE_SECONDS} s`);
  return measurePerRequestBaseline({ clients: BASELINE_CLIENTS, seconds: BASELINE_SECONDS });
}

function formatBaseline(sales: readonly Report[], baseline: { tps: number }): string {
  const first = sales[0] as Report;
  const highest = highestHeld(sales);
  return [
    `  per-request baseline        ${baseline.tps.toFixed(0)} tps (pgbench, one transaction per hold, ${BASELINE_CLIENTS} clients, fresh database)`,
    `  ratio                       ${(answeredPerSecond(first) / baseline.tps).toFixed(2)}x: PlaceOrder answers/s at ${first.config.rate} buyers/s over the baseline`,
    highest
      ? `                              ${(highest.config.rate / baseline.tps).toFixed(2)}x: the highest rate held over the baseline`
      : '                              no rate held',
  ].join('\n');
}

/** The sale of the highest rate that held, if any. */
const highestHeld = (sales: readonly Report[]): Report | undefined =>
  sales.filter(holds).sort((a, b) => b.config.rate - a.config.rate)[0];

/** Whether a sale held its rate: PlaceOrder's p99 in bounds, nobody failed, nothing oversold, every email sent. */
const holds = (report: Report): boolean => problemsOf(report).length === 0 && placeOrderP99(report) <= P99_BOUND_MS;

const placeOrderP99 = (report: Report): number =>
  percentile(sortedMs(report.outcomes.map((o) => o.placeOrderMs)), 0.99);

async function createEvent(target: Target, runId: string, seats: number) {
  const startsAt = new Date(Date.now() + 30 * 24 * 3600_000);
  const { event } = await target.event.createEvent(
    {
      idempotencyKey: randomUUID(),
      name: `Flash sale bench ${runId}`,
      description: 'made by make bench-flash-sale',
      startsAt,
      endsAt: new Date(startsAt.getTime() + 3 * 3600_000),
      ticketTypes: [{ name: 'General', price: { amountMinor: 2_500, currency: 'EUR' }, seats }],
    },
    await target.as(`${runId}-organizer`, ['organizer']),
  );
  const ticketTypeId = event?.ticketTypes[0]?.id;
  if (!event || !ticketTypeId) throw new Error('CreateEvent answered without a ticket type');
  console.log(`setup: event ${event.id}, ticket type ${ticketTypeId} with ${seats} seats`);
  return { eventId: event.id, ticketTypeId };
}

/**
 * A sale meets services that have been serving for a while, not ones whose code paths run for the first time: a
 * warm-up sale on another event (WARM_UP_BUYERS buyers, all of whom get a seat, then a few refused) first, unmeasured.
 * Its emails are not waited for.
 */
async function warmUp(target: Target, runId: string, config: FlashSaleConfig): Promise<void> {
  const buyers = WARM_UP_BUYERS;
  const { ticketTypeId } = await createEvent(target, `${runId}-warm-up`, Math.floor(buyers * 0.8));
  const started = performance.now();
  const warm = { ...config, buyers, rate: Math.min(config.rate, 50) };
  const outcomes = await runBuyers(target, `${runId}-warm-up`, ticketTypeId, warm, performance.now() + 5);
  const failed = outcomes.filter((o) => o.result !== 'OK' && o.result !== SOLD_OUT_RESULT);
  if (failed.length > 0)
    throw new Error(`warm-up: ${failed.length} buyers failed, e.g. ${failed[0]?.result}: ${failed[0]?.message}`);
  console.log(`warm-up: ${buyers} buyers in ${((performance.now() - started) / 1_000).toFixed(1)} s (not measured)`);
}

/** Open loop: buyer i is due at start + i/rate, whether or not the earlier ones are done. */
async function runBuyers(
  target: Target,
  runId: string,
  ticketTypeId: string,
  config: FlashSaleConfig,
  startedAt: number,
): Promise<BuyerOutcome[]> {
  const buyers: Promise<BuyerOutcome>[] = [];
  for (let index = 0; index < config.buyers; index += 1) {
    const dueAt = startedAt + (index * 1_000) / config.rate;
    const wait = dueAt - performance.now();
    if (wait > 0) await sleep(wait);
    buyers.push(buy(target, `${runId}-buyer-${index}`, ticketTypeId, dueAt));
  }
  return Promise.all(buyers);
}

async function buy(target: Target, userId: string, ticketTypeId: string, dueAt: number): Promise<BuyerOutcome> {
  const outcome: BuyerOutcome = {
    dueAt,
    startLagMs: performance.now() - dueAt,
    email: `${userId}@bench.example.com`,
    result: 'OK',
  };
  let step = 'AddToCart';
  try {
    const asBuyer = await target.as(userId);
    await target.checkout.addToCart({ userId, ticketTypeId, quantity: 1 }, asBuyer);
    outcome.addToCartMs = performance.now() - dueAt;
    step = 'PlaceOrder';
    const { order } = await target.checkout
      .placeOrder({ userId, email: outcome.email, idempotencyKey: randomUUID() }, asBuyer)
      .catch((error: unknown) => {
        outcome.placeOrderMs = performance.now() - dueAt;
        throw error;
      });
    outcome.placeOrderMs = performance.now() - dueAt;
    const payUrl = order?.payment?.payUrl;
    if (!payUrl) throw new Error(`order ${order?.id} has no pay page: is the stack's provider the sandbox?`);
    step = 'pay';
    const paySent = performance.now();
    const response = await fetch(payUrl, { method: 'POST', body: new URLSearchParams({ outcome: 'succeed' }) });
    if (response.status >= 400) throw new Error(`the pay page answered ${response.status}`);
    outcome.payMs = performance.now() - paySent;
    outcome.paidAtEpochMs = Date.now();
  } catch (error) {
    if (error instanceof ClientError && SOLD_OUT.has(error.code) && step === 'PlaceOrder') {
      outcome.result = SOLD_OUT_RESULT;
    } else {
      const name = error instanceof ClientError ? Status[error.code] : error instanceof Error ? error.name : 'error';
      outcome.result = `${step} ${name}`;
      outcome.message = error instanceof ClientError ? error.details : String(error);
    }
  }
  return outcome;
}

/** Booking's own count of the stock, read with a service token: the proof that nothing was oversold. */
async function readStock(stateDir: string, statuses: readonly ServiceStatus[], eventId: string, ticketTypeId: string) {
  const secret = (await readFile(devSecretFile(stateDir, 'SERVICE_AUTH_SECRET'), 'utf8')).trim();
  const address = statuses.find((s) => s.name === 'booking')?.address;
  if (!address) throw new NotRunnable('no booking in the stack status');
  const booking = createServiceClient(BookingServiceDefinition, address, {
    credentials: createServiceTokenSource({ secret, service: 'event', audience: 'booking' }),
  });
  try {
    const { stock } = await booking.client.getStock({ eventId, ticketTypeId });
    if (!stock) throw new Error('GetStock answered without a stock');
    return { total: stock.seatsTotal, booked: stock.seatsBooked };
  } finally {
    booking.close();
  }
}

/**
 * Waits until every paid buyer's "paid" email is in the mail catcher's folder (or MAIL_WAIT_MS passed), then takes
 * each one's arrival from its file's modification time: the catcher writes each mail once, as it arrives.
 */
async function awaitEmails(stateDir: string, outcomes: readonly BuyerOutcome[]) {
  const paid = new Map(outcomes.filter((o) => o.paidAtEpochMs !== undefined).map((o) => [o.email, o]));
  const folder = mailDir({ stateDir });
  const deadline = Date.now() + MAIL_WAIT_MS;
  const delays: number[] = [];
  const seen = new Set<string>();
  const read = new Set<string>();
  while (seen.size < paid.size && Date.now() < deadline) {
    const files = (await readdir(folder).catch(() => [] as string[])).filter(
      (name) => name.endsWith('.eml') && !read.has(name),
    );
    if (files.length === 0) {
      await sleep(250);
      continue;
    }
    // Named by arrival time, so the newest `files.length` are the unread ones.
    for (const mail of await readMailbox(folder, files.length)) {
      read.add(mail.file.slice(mail.file.lastIndexOf('/') + 1));
      const buyer = [...paid.values()].find((o) => mail.to.includes(o.email));
      if (!buyer || seen.has(buyer.email) || !/paid|tickets/i.test(mail.subject)) continue;
      seen.add(buyer.email);
      delays.push((await stat(mail.file)).mtimeMs - (buyer.paidAtEpochMs as number));
    }
  }
  return { expected: paid.size, delivered: seen.size, delaysMs: delays.sort((a, b) => a - b) };
}

async function cpuOf(statuses: readonly ServiceStatus[], ticks: number): Promise<Record<string, number>> {
  const readings = await Promise.all(
    statuses.map(async (s) => [s.name, (await readProcess(s.pid as number, ticks))?.cpuMs ?? Number.NaN] as const),
  );
  return Object.fromEntries(readings);
}

const cpuMsOf = ({ user, system }: NodeJS.CpuUsage): number => (user + system) / 1_000;

type Report = {
  config: FlashSaleConfig;
  outcomes: BuyerOutcome[];
  loadMs: number;
  generatorCpuMs: number;
  serviceCpuMs: Record<string, number>;
  stock: { total: number; booked: number };
  mail: { expected: number; delivered: number; delaysMs: number[] };
};

function problemsOf(report: Report): string[] {
  const winners = report.outcomes.filter((o) => o.result === 'OK').length;
  const problems: string[] = [];
  if (report.stock.booked > report.stock.total) problems.push('booking holds more seats than the stock has');
  if (winners > report.config.seats) problems.push(`${winners} buyers got a seat of ${report.config.seats}: oversold`);
  const failed = report.outcomes.filter((o) => o.result !== 'OK' && o.result !== SOLD_OUT_RESULT).length;
  if (failed > 0) problems.push(`${failed} buyers failed`);
  if (report.mail.delivered < report.mail.expected) {
    problems.push(`${report.mail.expected - report.mail.delivered} paid buyers got no email`);
  }
  return problems;
}

function formatReport(report: Report): string {
  const { config, outcomes } = report;
  const row = (label: string, values: number[]) =>
    `  ${label.padEnd(26)} ${[0.5, 0.9, 0.99].map((f) => fmt(percentile(values, f))).join(' ')} ${fmt(values.at(-1) ?? Number.NaN)} ${String(values.length).padStart(6)}`;
  const byResult = new Map<string, { count: number; message?: string }>();
  for (const o of outcomes) {
    const entry = byResult.get(o.result) ?? { count: 0, message: o.message };
    entry.count += 1;
    byResult.set(o.result, entry);
  }
  const answered = outcomes.filter((o) => o.placeOrderMs !== undefined);
  const lags = sortedMs(outcomes.map((o) => o.startLagMs));
  const lagP99 = percentile(lags, 0.99);
  const winners = outcomes.filter((o) => o.result === 'OK').length;
  const loadSeconds = report.loadMs / 1_000;
  const rule = '='.repeat(100);
  return [
    rule,
    `  flash sale: ${config.buyers} buyers for ${config.seats} seats at ${config.rate} buyers/s, open loop; AddToCart → PlaceOrder → pay page`,
    rule,
    `  PlaceOrder answers        ${answeredPerSecond(report).toFixed(1)}/s (first buyer due → last PlaceOrder answer)`,
    `  buyers                    ${[...byResult].map(([result, { count }]) => `${result} ${count}`).join(', ')}`,
    ...[...byResult]
      .filter(([, entry]) => entry.message)
      .map(([result, entry]) => `    first ${result}: ${entry.message}`),
    `  seats                     ${winners} sold of ${config.seats}; booking counts ${report.stock.booked} of ${report.stock.total} booked; oversold ${Math.max(0, winners - config.seats)}`,
    '',
    `  latency, ms                   p50    p90    p99    max      n`,
    row('AddToCart (from due)', sortedMs(outcomes.map((o) => o.addToCartMs))),
    row('PlaceOrder (from due)', sortedMs(outcomes.map((o) => o.placeOrderMs))),
    row('PlaceOrder, sold (from due)', sortedMs(outcomes.filter((o) => o.result === 'OK').map((o) => o.placeOrderMs))),
    row('pay page', sortedMs(outcomes.map((o) => o.payMs))),
    row('paid → email', report.mail.delaysMs),
    `  emails                    ${report.mail.delivered} of ${report.mail.expected} paid buyers`,
    '',
    `  service CPU               ${Object.entries(report.serviceCpuMs)
      .map(([name, cpuMs]) => `${name} ${((cpuMs / report.loadMs) * 100).toFixed(0)}%`)
      .join(', ')} of one core over ${loadSeconds.toFixed(1)} s`,
    `  checkout CPU              ${fmt((report.serviceCpuMs.checkout ?? Number.NaN) / Math.max(1, answered.length)).trim()} ms per PlaceOrder answered`,
    `  generator                 ${((report.generatorCpuMs / report.loadMs) * 100).toFixed(0)}% of one core; start lag p99 ${fmt(lagP99)} ms`,
    `  verdict                   ${verdict(lagP99, report.generatorCpuMs / report.loadMs)}`,
    `  result                    ${problemsOf(report).join('; ') || 'OK'}`,
    rule,
  ].join('\n');
}

/** The search: one line per sale, and the highest rate that held. */
function formatSearch(sales: readonly Report[]): string {
  const rule = '='.repeat(100);
  const highest = highestHeld(sales);
  const lines = sales.map((sale) => {
    const placed = sortedMs(sale.outcomes.map((o) => o.placeOrderMs));
    const lagP99 = percentile(sortedMs(sale.outcomes.map((o) => o.startLagMs)), 0.99);
    const problems = problemsOf(sale);
    return [
      `${sale.config.rate}`.padStart(7),
      answeredPerSecond(sale).toFixed(0).padStart(10),
      fmt(percentile(placed, 0.5)),
      fmt(percentile(placed, 0.99)),
      fmt(percentile(sale.mail.delaysMs, 0.99)),
      fmt(lagP99),
      `  ${holds(sale) ? 'held' : problems.length > 0 ? problems.join('; ') : `p99 over ${P99_BOUND_MS} ms`}`,
    ].join(' ');
  });
  return [
    rule,
    `  search: sales of ${sales[0]?.config.buyers} buyers for ${sales[0]?.config.seats} seats, rates ${SEARCH_FACTOR}x apart, for the highest that keeps PlaceOrder p99 <= ${P99_BOUND_MS} ms`,
    rule,
    '  buyers/s  answers/s  PlaceOrder p50    p99  email p99  start lag p99',
    ...lines.map((line) => `  ${line}`),
    '',
    `  highest rate held           ${highest ? `${highest.config.rate} buyers/s (PlaceOrder p99 ${placeOrderP99(highest).toFixed(0)} ms)` : `none: even ${sales.at(-1)?.config.rate} buyers/s did not hold`}`,
    rule,
  ].join('\n');
}

/**
 * Whether the arrivals were as scheduled. Late starts with a busy generator: it was the limit. Late starts with an
 * idle one: the machine's cores were taken (by the services under test, on a 2-core machine) and it was not run in
 * time, so buyers arrived later than asked and the load was lighter than its rate.
 */
function verdict(lagP99: number, generatorShare: number): string {
  if (lagP99 <= MAX_TRUSTED_START_LAG_MS) return 'the generator kept to its schedule';
  return generatorShare >= 0.8
    ? 'the generator fell behind its schedule: the figures show its limit, not the system'
    : `buyers started late (p99 ${lagP99.toFixed(0)} ms) though the generator was mostly idle: the cores were busy, so arrivals were lighter than the rate`;
}

/** PlaceOrder answers per second, from the first buyer's due time to the last answer. */
function answeredPerSecond({ outcomes }: Report): number {
  const answered = outcomes.filter((o) => o.placeOrderMs !== undefined);
  const lastAnswer = Math.max(...answered.map((o) => o.dueAt + (o.placeOrderMs as number)));
  return answered.length / ((lastAnswer - (outcomes[0]?.dueAt ?? 0)) / 1_000);
}

const sortedMs = (values: readonly (number | undefined)[]): number[] =>
  values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);

const fmt = (value: number): string => (Number.isFinite(value) ? value.toFixed(1).padStart(6) : '   n/a');

try {
  process.exitCode = await main();
} catch (error) {
  if (error instanceof FlashSaleConfigError || error instanceof NotRunnable) {
    console.error(`bench-flash-sale: ${error.message}`);
    process.exitCode = 2;
  } else {
    console.error('bench-flash-sale failed:', error);
    process.exitCode = 1;
  }
}
