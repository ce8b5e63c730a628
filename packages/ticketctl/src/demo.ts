#!/usr/bin/env node
// `make demo`: a scripted purchase through ticketctl's commands against the running system, then the
// email the buyer got. Each step prints what `ticketctl <step>` would. An organizer creates the event, a buyer
// buys and pays through the sandbox payment provider.
import { randomUUID } from 'node:crypto';
import { defaultStateDir, mailDir, readMailbox } from '@ticket/stack';
import { COMMANDS, type CommandInput } from './commands.ts';
import { openSession, type Session } from './session.ts';

const EMAIL = 'demo-buyer@example.com';
const MAIL_WAIT_MS = 30_000;

const run = randomUUID().slice(0, 8);
const organizer = openSession({ userId: `demo-organizer-${run}`, roles: ['organizer'] });
const buyer = openSession({ userId: `demo-${run}`, roles: [] });

async function step(
  title: string,
  words: string,
  args: string[] = [],
  flags: CommandInput['flags'] = {},
  session: Session = buyer,
) {
  const roles = session === organizer ? ' --role organizer' : '';
  console.log(`\n$ ticketctl --user ${session.userId}${roles} ${title}`);
  const command = COMMANDS[words];
  if (!command) throw new Error(`no command ${words}`);
  const output = await command.run({ session, args, flags });
  console.log(output.text);
  return output.json;
}

async function awaitPaidEmail(since: number) {
  const deadline = Date.now() + MAIL_WAIT_MS;
  const stateDir = { stateDir: defaultStateDir() };
  while (Date.now() < deadline) {
    const mails = await readMailbox(mailDir(stateDir), 20);
    const paid = mails.find(
      (mail) =>
        mail.to.includes(EMAIL) && (mail.date?.getTime() ?? 0) >= since - 1_000 && /paid|tickets/i.test(mail.subject),
    );
    if (paid) return paid;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return undefined;
}

try {
  const startsAt = new Date(Date.now() + 7 * 24 * 3600_000);
  const endsAt = new Date(startsAt.getTime() + 3 * 3600_000);
  const created = (await step(
    'events create --name "Demo Night" … --ticket General:25.00:EUR:100 --ticket VIP:80.00:EUR:10',
    'events create',
    [],
    {
      name: 'Demo Night',
      'starts-at': startsAt.toISOString(),
      'ends-at': endsAt.toISOString(),
      ticket: ['General:25.00:EUR:100', 'VIP:80.00:EUR:10'],
    },
    organizer,
  )) as { event: { ticketTypes: { id: string }[] } };
  const [general, vip] = created.event.ticketTypes;
  if (!general || !vip) throw new Error('the event came back without its two ticket types');
  await step(`cart add ${general.id} 2`, 'cart add', [general.id, '2']);
  await step(`cart add ${vip.id} 1`, 'cart add', [vip.id, '1']);
  const placed = (await step(`orders place --email ${EMAIL}`, 'orders place', [], { email: EMAIL })) as {
    order: { id: string };
  };
  const paidAt = Date.now();
  // The buyer pays on the sandbox provider's pay page; its signed webhook makes the order PAID.
  await step(`orders pay ${placed.order.id}`, 'orders pay', [placed.order.id]);
  console.log('\nwaiting for the email …');
  const mail = await awaitPaidEmail(paidAt);
  if (!mail) throw new Error(`no payment email reached the mail catcher in ${MAIL_WAIT_MS / 1000} s`);
  console.log(`\nTo: ${mail.to}\nSubject: ${mail.subject}\n\n${mail.text}`);
  await step('notifications list', 'notifications list');
} catch (error) {
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  organizer.close();
  buyer.close();
}
