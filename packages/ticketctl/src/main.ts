#!/usr/bin/env node
// ticketctl: the ticket system from the command line. `ticketctl help` lists the commands.
import { parseArgs } from 'node:util';
import { localAddress } from '@ticket/contracts/topology';
import { ClientError, Status } from 'nice-grpc';
import { COMMANDS } from './commands.ts';
import { UsageError } from './format.ts';
import { openSession } from './session.ts';

const GLOBAL_USAGE = `usage: ticketctl [--user ID] [--role ROLE …] [--json] <command> [arguments]

  --user ID     act as this user (default: $TICKET_USER, else "demo-user")
  --role ROLE   give the user's token this role: organizer, scanner or admin (repeatable; none: a buyer)
  --json        print the API's responses as JSON instead of tables

commands:
${Object.values(COMMANDS)
  .map((command) => `  ${command.usage}`)
  .join('\n')}

services: EVENT_ADDR (${localAddress('event')}), CHECKOUT_ADDR (${localAddress('checkout')}), NOTIFICATION_ADDR (${localAddress('notification')})
credentials: TICKET_TOKEN, else a token signed with AUTH_JWT_SECRET, else with the secret \`make up\` made
  (\`orders mark-paid\` is the box office's: TICKET_ADMIN_TOKEN, else an admin token signed the same way)`;

function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      user: { type: 'string' },
      role: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      name: { type: 'string' },
      description: { type: 'string' },
      'starts-at': { type: 'string' },
      'ends-at': { type: 'string' },
      'refundable-until': { type: 'string' },
      location: { type: 'string' },
      ticket: { type: 'string', multiple: true },
      address: { type: 'string' },
      city: { type: 'string' },
      country: { type: 'string' },
      email: { type: 'string' },
      reference: { type: 'string' },
      decline: { type: 'boolean' },
      late: { type: 'string' },
      buyer: { type: 'string' },
      'idempotency-key': { type: 'string' },
    },
  });
  return { flags: values, words: positionals };
}

/** A failed call in words a person can act on: the status and the server's message (which names bad fields). */
function describeError(error: unknown): string {
  if (error instanceof UsageError) return `${error.message}\n\n${GLOBAL_USAGE}`;
  if (error instanceof ClientError) return `${Status[error.code]}: ${error.details}`;
  return error instanceof Error ? error.message : String(error);
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${GLOBAL_USAGE}`);
    return 2;
  }
  const { flags, words } = parsed;
  const name = words[0] === 'token' ? 'token' : words.slice(0, 2).join(' ');
  const command = COMMANDS[name];
  if (flags.help || words[0] === 'help' || words.length === 0) {
    console.log(GLOBAL_USAGE);
    return 0;
  }
  if (!command) {
    console.error(`unknown command "${name}"\n\n${GLOBAL_USAGE}`);
    return 2;
  }
  const session = openSession({
    userId: flags.user ?? process.env.TICKET_USER ?? 'demo-user',
    roles: flags.role ?? [],
  });
  try {
    const output = await command.run({ session, args: words.slice(2), flags });
    console.log(flags.json ? JSON.stringify(output.json, null, 2) : output.text);
    return 0;
  } catch (error) {
    console.error(`error: ${describeError(error)}`);
    return error instanceof UsageError ? 2 : 1;
  } finally {
    session.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
