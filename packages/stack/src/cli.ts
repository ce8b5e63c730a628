#!/usr/bin/env node
// ticket-stack up [--detach] | down | status | logs | mail [--last N]: the whole system on this machine (`make up`).
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { readMailbox } from './mailbox.ts';
import { SERVICE_NAMES } from './services.ts';
import {
  defaultStateDir,
  logFileOf,
  mailDir,
  type ServiceStatus,
  type StackOptions,
  stackDown,
  stackStatus,
  stackUp,
} from './stack.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    detach: { type: 'boolean', short: 'd', default: false },
    last: { type: 'string', default: '1' },
  },
});
const options: StackOptions = {
  stateDir: defaultStateDir(),
  env: process.env,
  say: (line) => console.log(line),
};

async function up(): Promise<void> {
  const started = Date.now();
  try {
    const statuses = await stackUp(options);
    console.log(`\nall services serving after ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    printStatus(statuses);
  } catch (error) {
    console.error((error as Error).message);
    console.error('\nstopping what was started');
    await stackDown(options);
    process.exit(1);
  }
  if (values.detach) {
    console.log('\nlogs: make logs    stop: make down');
    return;
  }
  console.log('\nfollowing the logs; Ctrl-C stops everything\n');
  const tail = followLogs(0);
  const stop = async () => {
    tail.kill();
    await stackDown(options);
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** Follows every log in one stream (the lines are JSON with a `service` field), starting `lines` back. */
function followLogs(lines: number) {
  const files = ['mail-catcher', 'payment-sandbox', ...SERVICE_NAMES].map((name) => logFileOf(options, name));
  return spawn('tail', ['-q', '-n', String(lines), '-F', ...files], { stdio: ['ignore', 'inherit', 'inherit'] });
}

function printStatus(statuses: ServiceStatus[]): void {
  for (const { name, address, pid, health } of statuses) {
    console.log(`  ${name.padEnd(13)} grpc://${address.padEnd(16)} pid ${String(pid ?? '-').padEnd(8)} ${health}`);
  }
}

switch (positionals[0]) {
  case 'up':
    await up();
    break;
  case 'down':
    await stackDown(options);
    break;
  case 'status': {
    const statuses = await stackStatus(options);
    printStatus(statuses);
    if (statuses.some((status) => status.health !== 'SERVING')) process.exitCode = 1;
    break;
  }
  case 'logs':
    followLogs(20).on('exit', (code) => process.exit(code ?? 0));
    break;
  case 'mail':
    for (const mail of await readMailbox(mailDir(options), Number(values.last))) {
      console.log(
        `--- ${mail.file}\nTo: ${mail.to}\nSubject: ${mail.subject}\nDate: ${mail.date?.toISOString()}\n\n${mail.text}`,
      );
    }
    break;
  default:
    console.error('usage: ticket-stack up [--detach] | down | status | logs | mail [--last N]');
    process.exit(2);
}
