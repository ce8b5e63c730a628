#!/usr/bin/env node
// A development SMTP server: accepts every message on MAIL_CATCHER_PORT and keeps it as an .eml file in
// MAIL_DIR, so the emails the notification service sends can be read without a real mail account.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

const port = Number(process.env.MAIL_CATCHER_PORT ?? 1025);
const mailDir = process.env.MAIL_DIR ?? '.data/stack/mail';
await mkdir(mailDir, { recursive: true });

let received = 0;
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      received += 1;
      const file = join(mailDir, `${Date.now()}-${String(received).padStart(6, '0')}.eml`);
      const recipients = session.envelope.rcptTo.map((rcpt) => rcpt.address).join(', ');
      writeFile(file, Buffer.concat(chunks)).then(
        () => {
          console.log(JSON.stringify({ service: 'mail-catcher', msg: 'mail received', to: recipients, file }));
          callback();
        },
        (error: Error) => callback(error),
      );
    });
  },
});
server.listen(port, '127.0.0.1', () =>
  console.log(JSON.stringify({ service: 'mail-catcher', msg: 'mail catcher listening', port, mailDir })),
);
const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
