import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';

export interface CaughtMail {
  file: string;
  to: string;
  subject: string;
  date: Date | undefined;
  text: string;
}

/** The last `limit` emails the mail catcher kept, oldest first. */
export async function readMailbox(dir: string, limit: number): Promise<CaughtMail[]> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((name) => name.endsWith('.eml')).sort();
  return Promise.all(
    files.slice(-limit).map(async (name) => {
      const file = join(dir, name);
      const mail = await simpleParser(await readFile(file));
      const to = Array.isArray(mail.to) ? mail.to.map((address) => address.text).join(', ') : (mail.to?.text ?? '');
      return { file, to, subject: mail.subject ?? '', date: mail.date, text: mail.text ?? '' };
    }),
  );
}
