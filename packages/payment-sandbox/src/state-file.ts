import { randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** One change: the records it wrote (whole) and those it removed, each by collection and key. */
export interface JournalEntry {
  put: [collection: string, key: string, value: unknown][];
  delete: [collection: string, key: string][];
}

/**
 * State kept as a snapshot file plus a journal beside it (`<path>.journal`) with one line of JSON per change. A
 * change costs one append, whatever the size of the state; opening replays the journal over the snapshot and folds
 * it in (a new snapshot, an empty journal), so start-up reads the live state, not its history.
 *
 * Replaying is idempotent: an entry holds whole records, not differences, so an entry applied twice (a crash after
 * the new snapshot was written but before the journal was emptied) leaves the state as applying it once does.
 */
export class JournaledStateFile<State extends object> {
  readonly path: string;
  /** The state, as changed in memory: the snapshot is taken from it. */
  readonly state: State;
  readonly #journalPath: string;
  readonly #handle: FileHandle;
  /** Lines appended since the write under way started: the next write takes them all. */
  #pending: string[] = [];
  /** The write that has not started yet: appends asked for meanwhile share it instead of queueing one each. */
  #queued: Promise<void> | undefined;
  #last: Promise<void> = Promise.resolve();
  /** Bytes of whole entries in the journal: where a failed write is cut back to. */
  #size = 0;
  /** A write that failed and could not be cut back: appending after it would make a journal that does not replay. */
  #broken: unknown;
  #closed = false;
  #changedSinceSnapshot = false;
  #writes = 0;

  private constructor(path: string, state: State, handle: FileHandle) {
    this.path = path;
    this.state = state;
    this.#journalPath = journalPathOf(path);
    this.#handle = handle;
  }

  /**
   * The state in `path` and its journal. `load` makes the state from the snapshot (undefined when there is none
   * yet) and refuses one it cannot read, e.g. of another version.
   */
  static async open<State extends object>(
    path: string,
    load: (saved: unknown) => State,
  ): Promise<JournaledStateFile<State>> {
    const state = load(await readSnapshot(path));
    const journalPath = journalPathOf(path);
    const journal = await readText(journalPath);
    if (journal !== undefined) replay(journalPath, journal, state);
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(journalPath, 'a');
    const file = new JournaledStateFile(path, state, handle);
    try {
      // A new journal's name must be on disk before anything appended to it counts as saved.
      if (journal === undefined) await syncDirectory(dirname(path));
      if (journal) await file.#compact();
    } catch (error) {
      await handle.close();
      throw error;
    }
    return file;
  }

  /** Journal writes since opening, each one fdatasync: concurrent appends share one (for tests to count). */
  get writes(): number {
    return this.#writes;
  }

  /**
   * Resolves once a write that started after this call is on disk. The entry is serialised now, and a burst of
   * appends costs two writes (the one under way and the next, which takes all the others), not one each.
   */
  append(entry: JournalEntry): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`${this.#journalPath}: closed`));
    if (this.#broken !== undefined) return Promise.reject(this.#brokenError());
    this.#pending.push(JSON.stringify(entry));
    this.#changedSinceSnapshot = true;
    if (this.#queued) return this.#queued;
    const queued = this.#last.then(() => {
      this.#queued = undefined;
      const lines = this.#pending;
      this.#pending = [];
      return this.#write(lines);
    });
    this.#queued = queued;
    this.#last = queued.catch(() => {});
    return queued;
  }

  /** Waits for the writes asked for so far. */
  async flush(): Promise<void> {
    await this.#last;
  }

  /** Waits for the writes asked for so far, folds the journal into the snapshot and lets go of the journal. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.flush();
    try {
      if (this.#changedSinceSnapshot && this.#broken === undefined) await this.#compact();
    } finally {
      await this.#handle.close();
    }
  }

  async #write(lines: string[]): Promise<void> {
    if (this.#broken !== undefined) throw this.#brokenError();
    const data = `${lines.join('\n')}\n`;
    try {
      // One write and one flush for the whole group; appendFile loops until every byte is written.
      await this.#handle.appendFile(data);
      await this.#handle.datasync();
    } catch (error) {
      await this.#rollBack(lines, error);
      throw error;
    }
    this.#size += Buffer.byteLength(data);
    this.#writes++;
  }

  /**
   * The changes of a failed write are in memory but not saved, and half a line may be on disk. As the whole-file
   * rewrite did, they are saved with the next write: the journal is cut back to its last whole entry and they go
   * first. When even that fails, no later change is saved, as it would follow a journal that does not replay.
   */
  async #rollBack(lines: string[], error: unknown): Promise<void> {
    try {
      await this.#handle.truncate(this.#size);
      this.#pending.unshift(...lines);
    } catch {
      this.#broken = error;
    }
  }

  #brokenError(): Error {
    return new Error(`${this.#journalPath}: an earlier write failed, restart to reload what is on disk`, {
      cause: this.#broken,
    });
  }

  /** The whole state as the new snapshot, then an empty journal; a crash in between replays the old one again. */
  async #compact(): Promise<void> {
    await writeFileAtomically(this.path, `${JSON.stringify(this.state, null, 2)}\n`);
    await this.#handle.truncate(0);
    await this.#handle.sync();
    this.#size = 0;
    this.#changedSinceSnapshot = false;
  }
}

export const journalPathOf = (path: string): string => `${path}.journal`;

/** The snapshot, or undefined when there is none yet. A file that does not parse is an error, not a reset. */
async function readSnapshot(path: string): Promise<unknown> {
  const text = await readText(path);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${path}: not JSON`, { cause: error });
  }
}

async function readText(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
}

/**
 * Applies the journal's entries, in order, to `state`. A last line that does not parse is a write the crash cut
 * short: no one was answered for it, so it is dropped. Any other bad line is an error, not a silent loss.
 */
function replay(journalPath: string, text: string, state: object): void {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((line, index) => {
    const isLast = index === lines.length - 1;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      if (isLast) return;
      throw new Error(`${journalPath}: line ${index + 1} is not JSON`, { cause: error });
    }
    try {
      applyEntry(state, parsed);
    } catch (error) {
      throw new Error(`${journalPath}: line ${index + 1}: ${(error as Error).message}`, { cause: error });
    }
  });
}

function applyEntry(state: object, entry: unknown): void {
  if (!isEntry(entry)) throw new Error('not a journal entry');
  for (const [collection, key, value] of entry.put) collectionOf(state, collection)[key] = value;
  for (const [collection, key] of entry.delete) delete collectionOf(state, collection)[key];
}

function isEntry(value: unknown): value is JournalEntry {
  if (typeof value !== 'object' || value === null) return false;
  const { put, delete: deleted } = value as Partial<Record<keyof JournalEntry, unknown>>;
  return (
    Array.isArray(put) &&
    put.every((record) => Array.isArray(record) && record.length === 3 && typeof record[1] === 'string') &&
    Array.isArray(deleted) &&
    deleted.every((record) => Array.isArray(record) && record.length === 2 && typeof record[1] === 'string')
  );
}

/** Only the state's own collections: an entry naming anything else (`version`, a typo) is refused. */
function collectionOf(state: object, collection: unknown): Record<string, unknown> {
  const found =
    typeof collection === 'string' && Object.hasOwn(state, collection) ? Reflect.get(state, collection) : undefined;
  if (typeof found !== 'object' || found === null || Array.isArray(found)) {
    throw new Error(`no collection ${JSON.stringify(collection)}`);
  }
  return found as Record<string, unknown>;
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
