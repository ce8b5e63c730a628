import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * A JSON document kept in one file and rewritten whole on every save. A save writes a temporary file beside it,
 * flushes it to disk and renames it over the old one, so a crash leaves either the previous state or the new one,
 * never half of each.
 */
export class JsonStateFile<State> {
  readonly path: string;
  /** The write that has not started yet: saves asked for meanwhile share it instead of queueing one each. */
  #queued: Promise<void> | undefined;
  #last: Promise<void> = Promise.resolve();

  constructor(path: string) {
    this.path = path;
  }

  /** The saved state, or undefined when there is no file yet. A file that does not parse is an error, not a reset. */
  async read(): Promise<State | undefined> {
    const text = await readFile(this.path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    return text === undefined ? undefined : (JSON.parse(text) as State);
  }

  /**
   * Resolves once a write that started after this call is on disk. `snapshot` is taken when that write starts, so
   * every change made before this call is in it, and a burst of saves costs two writes, not one each.
   */
  save(snapshot: () => State): Promise<void> {
    if (this.#queued) return this.#queued;
    const queued = this.#last.then(() => {
      this.#queued = undefined;
      return writeFileAtomically(this.path, `${JSON.stringify(snapshot(), null, 2)}\n`);
    });
    this.#queued = queued;
    this.#last = queued.catch(() => {});
    return queued;
  }

  /** Waits for the writes asked for so far. */
  async flush(): Promise<void> {
    await this.#last;
  }
}

export async function writeFileAtomically(path: string, data: string): Promise<void> {
  const directory = dirname(path);
  await mkdir(directory, { recursive: true });
  const temporary = `${path}.${randomUUID()}.tmp`;
  try {
    const file = await open(temporary, 'w');
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(directory);
}

/** The rename itself is durable only once the directory entry is flushed. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
