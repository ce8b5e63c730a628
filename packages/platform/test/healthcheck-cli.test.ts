import { execFile } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { BookingServiceDefinition } from '@ticket/contracts/v1/booking/booking_service';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGrpcServer, type GrpcServer } from '../src/grpc/server.ts';

// `ticket-healthcheck` is what the Docker images' HEALTHCHECK and the compose files run: Docker reads its exit code
// only, so these tests run it as a process against a real gRPC server and look at the code and the line it prints.
const CLI = join(import.meta.dirname, '../src/cli/healthcheck.ts');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function healthcheck(...args: string[]): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

let server: GrpcServer;
let address: string;

beforeAll(async () => {
  server = createGrpcServer({ logger: pino({ level: 'silent' }) });
  // Any added service will do (its methods are never called): the health check asks about the server as a whole,
  // or about one service by its full name.
  const unused = new Proxy({}, { get: () => async () => ({}) });
  server.add(BookingServiceDefinition, unused as never);
  const port = await server.listen('127.0.0.1', 0);
  address = `127.0.0.1:${port}`;
});

afterAll(async () => {
  await server?.shutdown();
});

describe('ticket-healthcheck', () => {
  it('exits 0 and says SERVING while the server serves', async () => {
    server.health.setServing();
    const outcome = await healthcheck(address);
    expect(outcome).toMatchObject({ code: 0, stdout: `${address}: SERVING\n` });
  });

  it('asks about one service when named', async () => {
    server.health.setServing();
    const outcome = await healthcheck(address, '--service', 'ticket.booking.v1.BookingService');
    expect(outcome).toMatchObject({ code: 0, stdout: `${address} ticket.booking.v1.BookingService: SERVING\n` });
  });

  it('exits 1 when the server reports NOT_SERVING (draining, or a dependency down)', async () => {
    server.health.setNotServing();
    try {
      const outcome = await healthcheck(address);
      expect(outcome).toMatchObject({ code: 1, stdout: `${address}: NOT_SERVING\n` });
    } finally {
      server.health.setServing();
    }
  });

  it('exits 1 for a service the server does not know', async () => {
    const outcome = await healthcheck(address, '--service', 'no.such.Service');
    expect(outcome).toMatchObject({ code: 1, stdout: `${address} no.such.Service: SERVICE_UNKNOWN\n` });
  });

  it('exits 1 when nothing listens on the port', async () => {
    const closed = await closedPort();
    const outcome = await healthcheck(`127.0.0.1:${closed}`);
    expect(outcome.code).toBe(1);
    expect(outcome.stdout).toContain('UNREACHABLE');
  });

  it('gives up after --timeout-ms when the peer accepts the connection but never answers', async () => {
    const silent = await silentServer();
    try {
      const outcome = await healthcheck(silent.address, '--timeout-ms', '500');
      expect(outcome.code).toBe(1);
      expect(outcome.stdout).toContain('UNREACHABLE');
      // Well under Docker's 5 s check timeout: the deadline, not the process being killed, ended it.
      expect(outcome.ms).toBeLessThan(4_000);
    } finally {
      silent.close();
    }
  });

  it('exits 1 with a usage line, not 2 (which Docker reserves), when called wrongly', async () => {
    for (const args of [[], [address, 'extra'], [address, '--timeout-ms', 'soon']]) {
      const outcome = await healthcheck(...args);
      expect(outcome.code).toBe(1);
      expect(outcome.stderr).toContain('usage: ticket-healthcheck <host:port>');
    }
  });
});

/** A port that was free a moment ago: bound, then closed again. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** A TCP server that accepts connections and never sends a byte (a hung process, from the outside). */
async function silentServer(): Promise<{ address: string; close(): void }> {
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    close() {
      for (const socket of sockets) socket.destroy();
      silent.close();
    },
  };
}
