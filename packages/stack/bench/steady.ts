#!/usr/bin/env node
// `make bench-steady`: a steady, low, open-loop load on the running stack (`make start`). How much memory do the
// services hold, and how long does a lone order take, at a few orders per second? See README.md.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { defaultStateDir } from '@ticket/stack';
import { loadSteadyConfig, SteadyConfigError } from './config.ts';
import { runOpenLoop } from './load.ts';
import { clockTicksPerSecond } from './proc.ts';
import { idleCpuShares, startSampler } from './sampler.ts';
import { formatSummary, problemsOf } from './summary.ts';
import { NotRunnable, openTarget, servingStack, type Target } from './target.ts';

/** The quiet window before the load in which each service's background CPU is measured. */
const IDLE_MS = 5_000;

/** Seats for every order with room to spare, and never a tiny event (a sold-out answer would be a bench bug). */
const seatsFor = (orders: number): number => Math.max(1_000, Math.ceil(orders * 1.5));

async function main(): Promise<number> {
  const config = loadSteadyConfig();
  const stateDir = defaultStateDir();
  const statuses = await servingStack(stateDir);
  const clock = clockTicksPerSecond();
  const orders = Math.floor(config.rate * config.seconds);
  const runId = `steady-${randomUUID().slice(0, 8)}`;
  const target = await openTarget(stateDir, statuses);
  const interrupt = new AbortController();
  const onSignal = () => {
    console.error('\ninterrupted: no new buyers; waiting for the ones started, then the summary');
    interrupt.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    console.log(`stack: ${statuses.map((s) => `${s.name} pid ${s.pid}`).join(', ')} (state ${stateDir})`);
    const ticketTypeId = await createEvent(target, runId, seatsFor(orders));
    await warmUp(target, runId);
    const asBoxOffice = await target.as(`${runId}-box-office`, [target.adminRole]);
    console.log(
      `load: ${orders} orders at ${config.rate}/s over ${config.seconds} s; sampling every ${config.sampleSeconds} s`,
    );

    const sampled = statuses.map((status) => ({ name: status.name, pid: status.pid as number }));
    const idleCpuShare = await idleCpuShares(sampled, clock.ticks, IDLE_MS);
    const sampler = await startSampler(sampled, clock.ticks, config.sampleSeconds * 1_000);
    const cpuBefore = process.cpuUsage();
    const load = await runOpenLoop(target, {
      runId,
      ticketTypeId,
      rate: config.rate,
      orders,
      asBoxOffice,
      signal: interrupt.signal,
    });
    const after = await sampler.stop();
    const cpu = process.cpuUsage(cpuBefore);

    const figures = {
      config,
      services: sampled.map((s) => s.name),
      load,
      samples: sampler.samples,
      before: sampler.baseline,
      after,
      idleCpuShare,
      generatorCpuMs: (cpu.user + cpu.system) / 1_000,
      clockTicks: `${clock.ticks}/s (${clock.source})`,
    };
    console.log(formatSummary(figures));
    return problemsOf(figures).length === 0 ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    target.close();
  }
}

/** The organizer's event: one ticket type with a seat for every order, so no order fails for want of seats. */
async function createEvent(target: Target, runId: string, seats: number): Promise<string> {
  const startsAt = new Date(Date.now() + 30 * 24 * 3600_000);
  const { event } = await target.event.createEvent(
    {
      idempotencyKey: randomUUID(),
      name: `Steady bench ${runId}`,
      description: 'made by make bench-steady',
      startsAt,
      endsAt: new Date(startsAt.getTime() + 3 * 3600_000),
      ticketTypes: [{ name: 'General', price: { amountMinor: 2_500, currency: 'EUR' }, seats }],
    },
    await target.as(`${runId}-organizer`, ['organizer']),
  );
  const ticketTypeId = event?.ticketTypes[0]?.id;
  if (!ticketTypeId) throw new Error('CreateEvent answered without a ticket type');
  console.log(`setup: event ${event.id}, ticket type ${ticketTypeId} with ${seats} seats`);
  return ticketTypeId;
}

/**
 * One read on the checkout channel before the clock starts, so that its connection (TCP + HTTP/2) is open and the
 * first buyer is timed like every other.
 */
async function warmUp(target: Target, runId: string): Promise<void> {
  const userId = `${runId}-warm-up`;
  const started = performance.now();
  await target.checkout.getUserCart({ userId }, await target.as(userId));
  console.log(`warm-up: checkout answered in ${(performance.now() - started).toFixed(1)} ms`);
}

try {
  process.exitCode = await main();
} catch (error) {
  if (error instanceof SteadyConfigError || error instanceof NotRunnable) {
    console.error(`bench-steady: ${error.message}`);
    process.exitCode = 2;
  } else {
    console.error('bench-steady failed:', error);
    process.exitCode = 1;
  }
}
