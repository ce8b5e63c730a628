/**
 * `make bench-booking`: a flash sale on one hot stock. Booking runs as its own process on a fresh
 * database; the load generator's worker processes (@ticket/bench) drive CreateBooking over gRPC with many
 * calls in flight; the same load then runs against a no-op BookingService (the transport limit); then
 * pgbench runs the per-request-transaction baseline against the same schema. Prints holds/s, latency, the
 * oversold check, booking's peak RSS, CPU per call of booking and of the no-op server, the share of the
 * transport limit and the ratio to the baseline; exits 1 when an invariant broke.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ClosedLoopOptions, type LoadResult, openBenchChannel, runLoad, startNoopServer } from '@ticket/bench';
import { BookingServiceDefinition } from '@ticket/contracts/v1/booking/booking_service';
import { ConfigError } from '@ticket/platform';
import { freePort, type ServiceTestDatabase, type TestDatabase } from '@ticket/platform/testing';
import { ClientError, createClient, Status } from 'nice-grpc';
import { BOOKING_SCHEMA } from '../src/service.ts';
import {
  assertNothingListens,
  type BookingProcess,
  startBookingProcess,
  terminateBookingProcesses,
} from './booking-process.ts';
import { type BenchConfig, loadBenchConfig } from './config.ts';
import { busyShare, type MachineCpu, readMachineCpu } from './cpu.ts';
import {
  backendCpuBetween,
  createBenchDatabase,
  readBackendCpu,
  readCommitSettings,
  readHoldTransactions,
  readStockLedger,
} from './database.ts';
import type { BookingClient, HoldCallSetup, StockKey } from './hold-load.ts';
import { runPgbench } from './pgbench.ts';
import { type ServiceCredentials, serviceCredentials } from './service-tokens.ts';
import { type BenchFigures, formatSummary, holdsPerSecond, judge } from './summary.ts';

const READY_WITHIN_MS = 30_000;
/** Setup calls (readiness, CreateStock) get this long each. */
const SETUP_CALL_MS = 5_000;
/** Calls still running this long after the window closed are cancelled and counted as failed. */
const DRAIN_GRACE_MS = 10_000;

async function main(): Promise<number> {
  const config = loadBenchConfig();
  const workDir = await mkdtemp(join(tmpdir(), 'bench-booking-'));
  const database = await createBenchDatabase();
  progress(`database ${database.name} created and migrated; work files in ${workDir}`);
  cleanUpOnSignal(database, workDir);
  let failed = true;
  try {
    const figures = await measure(config, database, workDir);
    const verdict = judge(figures);
    process.stdout.write(formatSummary(figures, verdict));
    failed = verdict.problems.length > 0;
  } finally {
    await database.drop();
    if (failed) await showBookingLog(workDir);
    else await rm(workDir, { recursive: true, force: true });
  }
  return failed ? 1 : 0;
}

/** Interrupted (Ctrl-C, a timeout): stop booking, drop the database, then exit as the signal would. */
function cleanUpOnSignal(database: TestDatabase, workDir: string): void {
  const onSignal = (signal: NodeJS.Signals) => {
    progress(`${signal}: stopping booking, dropping ${database.name}`);
    terminateBookingProcesses();
    void Promise.allSettled([database.drop(), rm(workDir, { recursive: true, force: true })]).finally(() =>
      process.exit(signal === 'SIGINT' ? 130 : 143),
    );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

async function measure(config: BenchConfig, database: ServiceTestDatabase, workDir: string): Promise<BenchFigures> {
  const kafkaPort = await freePort();
  await assertNothingListens(kafkaPort);
  const logFile = join(workDir, 'booking.log');
  // A key of this run only: the bench calls as event (stocks) and checkout (holds), as booking requires.
  const serviceAuthSecret = randomBytes(32).toString('hex');
  const booking = await startBookingProcess({
    databaseUrl: database.roleUrl(BOOKING_SCHEMA),
    grpcPort: await freePort(),
    kafkaBrokers: `127.0.0.1:${kafkaPort}`,
    serviceAuthSecret,
    logLevel: config.BENCH_BOOKING_LOG_LEVEL,
    logFile,
  });
  const grpc = await measureGrpc(config, booking, database.url, serviceAuthSecret);
  const noop = await measureNoop(config, grpc.grpcStock.key, serviceAuthSecret);
  progress(`pgbench: ${config.BENCH_CONCURRENCY} clients, one transaction per hold, ${config.BENCH_SECONDS} s`);
  const pgbench = await runPgbench({
    pgbench: config.PGBENCH,
    // As booking's role too, so the baseline runs with the same rights as the service it is compared with.
    databaseUrl: database.roleUrl(BOOKING_SCHEMA),
    stockId: grpc.pgbenchStockId,
    clients: config.BENCH_CONCURRENCY,
    threads: config.BENCH_PGBENCH_THREADS,
    seconds: config.BENCH_SECONDS,
    workDir,
  });
  return {
    ...grpc.figures,
    noop,
    workers: config.BENCH_WORKERS,
    seconds: config.BENCH_SECONDS,
    concurrency: config.BENCH_CONCURRENCY,
    channels: config.BENCH_CHANNELS,
    postgres: await readCommitSettings(database.url),
    kafka: await describeKafka(kafkaPort, logFile),
    grpcLedger: await readStockLedger(database.url, grpc.grpcStock.id),
    grpcTransactions: await readHoldTransactions(database.url, grpc.grpcStock.id),
    pgbench,
    pgbenchLedger: await readStockLedger(database.url, grpc.pgbenchStockId),
    targetRatio: config.BENCH_TARGET_RATIO,
  };
}

/**
 * The gRPC phase, with booking running: make the two stocks, drive the load (worker processes of
 * @ticket/bench), read booking's CPU and peak memory while it still runs, then stop it so that the no-op
 * run and pgbench have the machine to themselves.
 */
async function measureGrpc(
  config: BenchConfig,
  booking: BookingProcess,
  databaseUrl: string,
  serviceAuthSecret: string,
) {
  const channel = openBenchChannel(`127.0.0.1:${booking.port}`);
  const client: BookingClient = createClient(BookingServiceDefinition, channel);
  const asEvent = await serviceCredentials(serviceAuthSecret, 'event');
  try {
    await Promise.race([waitUntilServing(client, asEvent), booking.exited]);
    const grpcStock = await createStock(client, asEvent, config.BENCH_SEATS);
    const pgbenchStock = await createStock(client, asEvent, config.BENCH_SEATS);
    progress(
      `gRPC: ${config.BENCH_CONCURRENCY} callers in ${config.BENCH_WORKERS} worker processes on one stock, ${config.BENCH_WARMUP_SECONDS} s warm-up + ${config.BENCH_SECONDS} s`,
    );
    const readyPeakRssKiB = await booking.peakRssKiB();
    let before: { postgres: Map<number, number>; machine: MachineCpu } | undefined;
    let postgresCpuSeconds = 0;
    let machineBusyShare = 0;
    const result = await Promise.race([
      runLoad({
        ...holdLoad(config, `127.0.0.1:${booking.port}`, grpcStock.key, serviceAuthSecret),
        observe: { booking: booking.pid },
        onStart: async () => {
          before = { postgres: await readBackendCpu(databaseUrl), machine: await readMachineCpu() };
        },
        onEnd: async () => {
          if (!before) return;
          postgresCpuSeconds = backendCpuBetween(before.postgres, await readBackendCpu(databaseUrl));
          machineBusyShare = busyShare(before.machine, await readMachineCpu());
        },
      }),
      booking.exited,
    ]);
    const open = await measureOpenLoop(config, booking, grpcStock.key, serviceAuthSecret, holdsPerSecond(result));
    const figures = {
      grpc: result,
      grpcOpen: open,
      loadWallSeconds: result.generator.wallSeconds,
      bookingCpuSeconds: result.observed.booking?.cpuSeconds ?? Number.NaN,
      loadCpuSeconds: result.generator.cpuSeconds.reduce((sum, seconds) => sum + seconds, 0),
      postgresCpuSeconds,
      machineBusyShare,
      bookingReadyPeakRssKiB: readyPeakRssKiB,
      bookingPeakRssKiB: await booking.peakRssKiB(),
    };
    return { figures, grpcStock, pgbenchStockId: pgbenchStock.id };
  } finally {
    asEvent.stop();
    channel.close();
    const stopping = performance.now();
    const code = await booking.stop();
    progress(`booking stopped with code ${code} in ${((performance.now() - stopping) / 1_000).toFixed(1)} s`);
  }
}

/** The open-loop rate, as a share of the closed loop's holds/s (the "80% of the maximum sustained rate"). */
const OPEN_LOOP_SHARE = 0.8;

/**
 * Open loop on the same booking right after the closed loop: holds arriving at OPEN_LOOP_SHARE of the holds/s the
 * closed loop reached, each timed from when it was due, so that queueing shows in the latency.
 */
async function measureOpenLoop(
  config: BenchConfig,
  booking: BookingProcess,
  stock: StockKey,
  serviceAuthSecret: string,
  closedLoopHoldsPerSecond: number,
): Promise<LoadResult> {
  const rate = Math.max(1, Math.round(closedLoopHoldsPerSecond * OPEN_LOOP_SHARE));
  progress(
    `gRPC open loop: ${rate} holds/s (${OPEN_LOOP_SHARE * 100}% of the closed loop's), ${config.BENCH_SECONDS} s`,
  );
  const { callers: _closedLoopCallers, ...common } = holdLoad(
    config,
    `127.0.0.1:${booking.port}`,
    stock,
    serviceAuthSecret,
  );
  return Promise.race([
    runLoad({ ...common, mode: 'open', rate, warmupSeconds: 0, observe: { booking: booking.pid } }),
    booking.exited,
  ]);
}

/**
 * The same load, the same generator, against a BookingService that answers every call at once with an empty
 * response: what the transport and the generator allow at most, and the server CPU a call costs by itself.
 */
async function measureNoop(config: BenchConfig, stock: StockKey, serviceAuthSecret: string): Promise<LoadResult> {
  const noop = await startNoopServer({
    definitionModule: import.meta.resolve('@ticket/contracts/v1/booking/booking_service'),
    definitionExport: 'BookingServiceDefinition',
  });
  try {
    progress(`no-op BookingService (transport limit): the same load, pid ${noop.pid}`);
    return await runLoad({
      ...holdLoad(config, noop.address, stock, serviceAuthSecret),
      observe: { noop: noop.pid },
    });
  } finally {
    await noop.stop();
  }
}

/** The closed loop both gRPC runs use: BENCH_CONCURRENCY callers over BENCH_WORKERS processes. */
function holdLoad(config: BenchConfig, address: string, stock: StockKey, serviceAuthSecret: string): ClosedLoopOptions {
  const setup: HoldCallSetup = { address, channels: config.BENCH_CHANNELS, stock, serviceAuthSecret };
  return {
    mode: 'closed',
    callers: config.BENCH_CONCURRENCY,
    workers: config.BENCH_WORKERS,
    warmupSeconds: config.BENCH_WARMUP_SECONDS,
    seconds: config.BENCH_SECONDS,
    drainSeconds: DRAIN_GRACE_MS / 1_000,
    callModule: new URL('./hold-load.ts', import.meta.url).href,
    callExport: 'makeCall',
    setup,
  };
}

/** Booking answers once it has connected its pool and bound its port; NOT_FOUND for a random stock is an answer. */
async function waitUntilServing(client: BookingClient, caller: ServiceCredentials): Promise<void> {
  const giveUpAt = performance.now() + READY_WITHIN_MS;
  for (;;) {
    try {
      await client.getStock(
        { eventId: randomUUID(), ticketTypeId: randomUUID() },
        { signal: AbortSignal.timeout(SETUP_CALL_MS), metadata: caller.metadata() },
      );
      return;
    } catch (error) {
      if (error instanceof ClientError && error.code === Status.NOT_FOUND) return;
      if (performance.now() > giveUpAt)
        throw new Error(`booking did not answer within ${READY_WITHIN_MS} ms`, { cause: error });
      await sleep(100);
    }
  }
}

async function createStock(
  client: BookingClient,
  caller: ServiceCredentials,
  seats: number,
): Promise<{ id: string; key: StockKey }> {
  const key = { eventId: randomUUID(), ticketTypeId: randomUUID() };
  const { stock } = await client.createStock(
    { ...key, seatsTotal: seats },
    { signal: AbortSignal.timeout(SETUP_CALL_MS), metadata: caller.metadata() },
  );
  if (!stock) throw new Error('CreateStock returned no stock');
  return { id: stock.id, key };
}

/** Booking ran without a broker: say so, with how often its log shows it trying to reach one. */
async function describeKafka(port: number, logFile: string): Promise<string> {
  const lines = (await readFile(logFile, 'utf8')).split('\n').filter((line) => line.length > 0);
  const refused = lines.filter((line) => line.includes('ECONNREFUSED')).length;
  return `none at 127.0.0.1:${port} (connection refused); booking's log: ${lines.length} lines, ${refused} of them refused Kafka connections`;
}

async function showBookingLog(workDir: string): Promise<void> {
  const logFile = join(workDir, 'booking.log');
  const lines = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').filter((line) => line.length > 0);
  progress(`kept ${workDir}; the end of booking's log:\n${lines.slice(-15).join('\n')}`);
}

function progress(message: string): void {
  process.stderr.write(`bench-booking: ${message}\n`);
}

try {
  process.exit(await main());
} catch (error) {
  progress(error instanceof ConfigError ? error.message : `failed: ${error instanceof Error ? error.stack : error}`);
  process.exit(1);
}
