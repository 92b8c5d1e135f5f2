// Reads a SQLite database's figures straight from its files, with plain reads: no SQLite
// connection, so no lock, no checkpoint, no -wal/-shm created, nothing written, ever. The
// trading services write to these databases all day; a reader that takes a SHARED lock or
// runs a checkpoint on close can stall them or rewrite their files. I/O and caching only:
// the format itself (header, WAL, b-trees, budgets) is parsed in sqlite-format.ts.
//
// What is read (https://www.sqlite.org/fileformat2.html):
// - the 100-byte database header: page size, page count, freelist pages;
// - in WAL mode the header in the main file is stale until a checkpoint, so the WAL is read
//   as SQLite's own recovery does (sqlite-format.ts readWal), and pages come through its
//   page map: the newest committed copy of each page;
// - sqlite_master's b-tree for the number of tables and indexes, and the freelist.
import { isFsError } from '../errors.js';
import { lstatSync } from 'node:fs';
import { open, lstat, type FileHandle } from 'node:fs/promises';
import {
  DEFAULT_BUDGET,
  readDatabase,
  readWal,
  SqliteReadError,
  WAL_HEADER,
  type DbFigures,
  type PageStore,
  type ReadAt,
  type ReadBudget,
  type WalState,
} from './sqlite-format.js';
import type { DatabaseFile } from './sqlite-glob.js';

export interface SqliteReading {
  /** The `path` label of the database (its main file as configured). */
  path: string;
  mainBytes: number;
  /** Present only when the file exists. */
  walBytes?: number;
  shmBytes?: number;
  /** true when the file is a readable SQLite database (header and schema parsed). */
  ok: boolean;
  pageSize?: number;
  pages?: number;
  freelistPages?: number;
  tables?: number;
  indexes?: number;
  /** Why ok is false. */
  problem?: string;
}

const withSuffix = (file: Buffer, suffix: string): Buffer => Buffer.concat([file, Buffer.from(suffix)]);

function readAtOf(fh: FileHandle): ReadAt {
  return async (buf, length, position) => (await fh.read(buf, 0, length, position)).bytesRead;
}

/** Pages from the WAL's newest committed frame when it holds one, else from the main file. */
function filePages(main: FileHandle, wal: FileHandle | undefined, walPages: Map<number, number> | undefined): PageStore {
  return {
    async read(pgno, buf) {
      const walOff = walPages?.get(pgno);
      const { bytesRead } =
        walOff !== undefined && wal ? await wal.read(buf, 0, buf.length, walOff) : await main.read(buf, 0, buf.length, (pgno - 1) * buf.length);
      return bytesRead;
    },
  };
}

async function sizeOf(file: Buffer): Promise<number | undefined> {
  try {
    const st = await lstat(file);
    return st.isFile() ? st.size : undefined;
  } catch (err) {
    if (isFsError(err)) return undefined;
    throw err;
  }
}

/**
 * A database's three files as lstat sees them (inode, size, mtime, ctime of each, or their
 * absence), and the newest ctime among them. Synchronous: three stats of local metadata.
 */
function filesState(file: Buffer): { key: string; newestChangeMs: number } {
  let key = '';
  let newest = 0;
  for (const f of [file, withSuffix(file, '-wal'), withSuffix(file, '-shm')]) {
    let st;
    try {
      st = lstatSync(f, { throwIfNoEntry: false });
    } catch {
      st = undefined;
    }
    key += st ? `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs};` : '-;';
    if (st) newest = Math.max(newest, st.ctimeMs);
  }
  return { key, newestChangeMs: newest };
}

/**
 * A reading is served again only if its files were already quiet when it was taken (their
 * newest ctime this long before the read began): a write in the same clock tick as the read
 * could otherwise leave every timestamp unchanged (git's "racily clean" problem).
 */
const QUIET_BEFORE_READ_MS = 100;

/**
 * Reads one database, keeping each database's WAL state between calls so a growing WAL is
 * read once, not on every scrape: the next read starts at the last commit already seen.
 * A database whose files have not changed since the last reading (same inode, size, mtime
 * and ctime for the main file, -wal and -shm; any write moves ctime) is not opened again:
 * its last reading is served. A database written between two scrapes is read as before; one
 * that was not costs three stats instead of the seven asynchronous file operations of a
 * reading, which for eleven databases were a scrape's largest use of libuv's threads.
 */
export class SqliteReader {
  private readonly last = new Map<string, { key: string; reading: SqliteReading }>();
  private readonly wal = new Map<string, WalState>();
  /** Figures (or the problem) by database, with the state they were read at: parsed again only on change. */
  private readonly schemas = new Map<string, { key: string; figures: DbFigures | SqliteReadError }>();
  /** Reads in progress, so a scrape that arrives during one waits for it instead of starting another. */
  private readonly inFlight = new Map<string, Promise<SqliteReading | undefined>>();

  constructor(private readonly budget: Readonly<ReadBudget> = DEFAULT_BUDGET) {}

  /** Reads not yet settled (none once a collection has returned). */
  get readsInFlight(): number {
    return this.inFlight.size;
  }

  /** Forgets databases not in `keep` (deleted, or no longer matched by a glob). */
  retain(keep: Set<string>): void {
    for (const k of this.last.keys()) if (!keep.has(k)) this.last.delete(k);
    for (const k of this.wal.keys()) if (!keep.has(k)) this.wal.delete(k);
    for (const k of this.schemas.keys()) if (!keep.has(k)) this.schemas.delete(k);
  }

  /**
   * undefined when the main file is gone or not a regular file. Throws SqliteReadError
   * 'aborted' when `signal` fires first; nothing of that read is kept but WAL progress.
   */
  read(db: DatabaseFile | string, signal?: AbortSignal): Promise<SqliteReading | undefined> {
    const d = typeof db === 'string' ? { path: db, file: Buffer.from(db) } : db;
    const running = this.inFlight.get(d.path);
    if (running) return running;
    const p = this.readCached(d, signal).finally(() => this.inFlight.delete(d.path));
    this.inFlight.set(d.path, p);
    return p;
  }

  private async readCached(d: DatabaseFile, signal: AbortSignal | undefined): Promise<SqliteReading | undefined> {
    const before = filesState(d.file);
    const last = this.last.get(d.path);
    if (last && last.key === before.key) return last.reading;
    const startedAt = Date.now();
    const reading = await this.readAfresh(d, signal);
    if (reading && before.newestChangeMs < startedAt - QUIET_BEFORE_READ_MS) this.last.set(d.path, { key: before.key, reading });
    else this.last.delete(d.path);
    return reading;
  }

  private async readAfresh(d: DatabaseFile, signal: AbortSignal | undefined): Promise<SqliteReading | undefined> {
    try {
      return await this.readOnce(d, signal);
    } catch (err) {
      if (!expected(err)) throw err;
      if (err instanceof SqliteReadError && err.kind === 'budget') return this.refused(d, err);
      // A checkpoint or a WAL reset between two of our reads can show pages from two moments;
      // one retry from scratch settles it. A second failure is a real problem with the file.
      this.wal.delete(d.path);
      this.schemas.delete(d.path);
      try {
        return await this.readOnce(d, signal);
      } catch (err2) {
        if (!expected(err2)) throw err2;
        return this.refused(d, err2);
      }
    }
  }

  /** The reading of a database whose read was given up (too slow): its size and why; not kept. */
  abandoned(db: DatabaseFile, why: string): Promise<SqliteReading | undefined> {
    return this.refused(db, new Error(why));
  }

  /** The reading of a file that is not a readable database: its size and why (over budget: not retried). */
  private async refused(d: DatabaseFile, err: Error): Promise<SqliteReading | undefined> {
    const mainBytes = await sizeOf(d.file);
    if (mainBytes === undefined) return undefined;
    return { path: d.path, mainBytes, ok: false, problem: err.message };
  }

  private async readOnce(d: DatabaseFile, signal: AbortSignal | undefined): Promise<SqliteReading | undefined> {
    const mainBytes = await sizeOf(d.file);
    if (mainBytes === undefined) return undefined;
    const walBytes = await sizeOf(withSuffix(d.file, '-wal'));
    const shmBytes = await sizeOf(withSuffix(d.file, '-shm'));
    const r: SqliteReading = { path: d.path, mainBytes, ok: false };
    if (walBytes !== undefined) r.walBytes = walBytes;
    if (shmBytes !== undefined) r.shmBytes = shmBytes;

    // O_RDONLY, no locks: plain reads never block a writer and never create a file.
    const main = await open(d.file, 'r');
    let walFh: FileHandle | undefined;
    try {
      const mainHead = Buffer.alloc(100);
      const { bytesRead } = await main.read(mainHead, 0, 100, 0);
      let wal: WalState | undefined;
      if (walBytes !== undefined && walBytes >= WAL_HEADER) {
        try {
          walFh = await open(withSuffix(d.file, '-wal'), 'r');
          wal = await readWal(readAtOf(walFh), walBytes, this.wal.get(d.path), signal, (st) => this.wal.set(d.path, st));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // checkpointed away just now
        }
      }
      if (wal) this.wal.set(d.path, wal);
      else this.wal.delete(d.path);
      const walCommitted = wal?.dbPages !== undefined ? wal : undefined;

      if (bytesRead === 0 && !walCommitted) {
        // SQLite treats an empty file as an empty database.
        return { ...r, ok: true, pages: 0, freelistPages: 0, tables: 0, indexes: 0 };
      }
      // A database whose every page is still in the WAL has no header in the main file yet.
      const page1 = walCommitted?.pages.get(1);
      let head = mainHead;
      if (page1 !== undefined && walFh) {
        head = Buffer.alloc(100);
        await walFh.read(head, 0, 100, page1);
      }
      // The figures can only have changed if a transaction committed: the main file's change
      // counter moves on every commit in rollback mode, the WAL's last commit in WAL mode.
      const key = `${mainBytes}:${head.readUInt32BE(24)}:${walCommitted ? `${walCommitted.salt1}:${walCommitted.end}` : '-'}`;
      let figures = this.schemas.get(d.path)?.key === key ? this.schemas.get(d.path)?.figures : undefined;
      if (!figures) {
        const store = filePages(main, walFh, walCommitted?.pages);
        const input = { head, fileBytes: mainBytes, ...(walCommitted ? { walPages: walCommitted.dbPages as number } : {}) };
        try {
          figures = await readDatabase(store, input, { ...this.budget, ...(signal ? { signal } : {}) });
        } catch (err) {
          if (!(err instanceof SqliteReadError) || err.kind === 'aborted') throw err;
          figures = err;
        }
        this.schemas.set(d.path, { key, figures });
      }
      if (figures instanceof SqliteReadError) throw figures;
      return {
        ...r,
        ok: true,
        pageSize: figures.pageSize,
        pages: figures.pages,
        freelistPages: figures.freelistPages,
        tables: figures.tables,
        indexes: figures.indexes,
      };
    } finally {
      await walFh?.close();
      await main.close();
    }
  }
}

/** What a read of a hostile or changing file may throw; an abort is passed on, not a file problem. */
function expected(err: unknown): err is Error {
  if (err instanceof SqliteReadError) return err.kind !== 'aborted';
  return isFsError(err);
}
