// Reads a SQLite database's figures straight from its files, with plain reads: no SQLite
// connection, so no lock, no checkpoint, no -wal/-shm created, nothing written, ever. The
// trading services write to these databases all day; a reader that takes a SHARED lock or
// runs a checkpoint on close can stall them or rewrite their files. I/O only.
//
// What is read (https://www.sqlite.org/fileformat2.html):
// - the 100-byte database header: page size, page count, freelist pages;
// - in WAL mode the header in the main file is stale until a checkpoint, so the WAL is read
//   as SQLite's own recovery does: frames are valid while their salts match the WAL header
//   and the running checksum holds; the last valid commit frame carries the database size in
//   pages, and the newest committed copy of page 1 carries the freelist count;
// - sqlite_master's b-tree (through the same page map, so a table created a second ago and
//   still only in the WAL is counted) for the number of tables and indexes.
import { lstatSync } from 'node:fs';
import { open, lstat, type FileHandle } from 'node:fs/promises';

export interface SqliteReading {
  /** Absolute path of the main database file. */
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

const MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const WAL_MAGIC_LE = 0x377f0682;
const WAL_MAGIC_BE = 0x377f0683;
const WAL_HEADER = 32;
const FRAME_HEADER = 24;

export interface DbHeader {
  pageSize: number;
  /** Reserved bytes at the end of each page. */
  reserved: number;
  changeCounter: number;
  /** Database size in pages from the header, when that field is valid; else undefined. */
  headerPages: number | undefined;
  freelistPages: number;
}

/** Parses the 100-byte database header; undefined when it is not a SQLite 3 database. */
export function parseDbHeader(h: Buffer): DbHeader | undefined {
  if (h.length < 100 || !h.subarray(0, 16).equals(MAGIC)) return undefined;
  const raw = h.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return undefined;
  const changeCounter = h.readUInt32BE(24);
  const size = h.readUInt32BE(28);
  // The in-header size is only valid when "version-valid-for" matches the change counter
  // (legacy writers did not maintain it); SQLite then falls back to the file size.
  const headerPages = size > 0 && h.readUInt32BE(92) === changeCounter ? size : undefined;
  return { pageSize, reserved: h.readUInt8(20), changeCounter, headerPages, freelistPages: h.readUInt32BE(36) };
}

/** SQLite's WAL checksum over `data` (a multiple of 8 bytes), continuing from s0/s1. */
export function walChecksum(data: Buffer, bigEndian: boolean, s0: number, s1: number): [number, number] {
  let a = s0 >>> 0;
  let b = s1 >>> 0;
  const n = data.length - (data.length % 8);
  if (bigEndian) {
    for (let i = 0; i < n; i += 8) {
      a = (a + data.readUInt32BE(i) + b) >>> 0;
      b = (b + data.readUInt32BE(i + 4) + a) >>> 0;
    }
  } else {
    for (let i = 0; i < n; i += 8) {
      a = (a + data.readUInt32LE(i) + b) >>> 0;
      b = (b + data.readUInt32LE(i + 4) + a) >>> 0;
    }
  }
  return [a, b];
}

/** What the WAL says, as of its last valid commit frame. Kept between reads. */
export interface WalState {
  salt1: number;
  salt2: number;
  checkpointSeq: number;
  pageSize: number;
  bigEndian: boolean;
  /** File offset just after the last valid commit frame (reading resumes here). */
  end: number;
  /** Running checksum at `end`. */
  s0: number;
  s1: number;
  /** Database size in pages at the last commit, or undefined when no commit is in the WAL. */
  dbPages: number | undefined;
  /** Page number -> file offset of its newest committed frame's page data. */
  pages: Map<number, number>;
}

const WAL_CHUNK = 1 << 20;

/**
 * Reads the WAL from `prev.end` (or from its header when prev does not match the file any
 * more: a reset writes new salts, a truncation shrinks the file) and returns the new state, or
 * undefined when the file holds no valid WAL header.
 */
export async function readWal(fh: FileHandle, size: number, prev: WalState | undefined): Promise<WalState | undefined> {
  if (size < WAL_HEADER) return undefined;
  const hdr = Buffer.alloc(WAL_HEADER);
  await fh.read(hdr, 0, WAL_HEADER, 0);
  const magic = hdr.readUInt32BE(0);
  if (magic !== WAL_MAGIC_LE && magic !== WAL_MAGIC_BE) return undefined;
  const bigEndian = magic === WAL_MAGIC_BE;
  const pageSize = hdr.readUInt32BE(8);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return undefined;
  const [h0, h1] = walChecksum(hdr.subarray(0, 24), bigEndian, 0, 0);
  if (h0 !== hdr.readUInt32BE(24) || h1 !== hdr.readUInt32BE(28)) return undefined;
  const salt1 = hdr.readUInt32BE(16);
  const salt2 = hdr.readUInt32BE(20);
  const checkpointSeq = hdr.readUInt32BE(12);
  let st: WalState;
  if (
    prev &&
    prev.salt1 === salt1 &&
    prev.salt2 === salt2 &&
    prev.checkpointSeq === checkpointSeq &&
    prev.pageSize === pageSize &&
    prev.end <= size
  ) {
    // Updated in place: pages and end change together at each commit frame, so the state is
    // consistent at every step (and the caller drops it on any error).
    st = prev;
  } else {
    st = { salt1, salt2, checkpointSeq, pageSize, bigEndian, end: WAL_HEADER, s0: h0, s1: h1, dbPages: undefined, pages: new Map() };
  }
  const frameSize = FRAME_HEADER + pageSize;
  const framesPerChunk = Math.max(1, Math.floor(WAL_CHUNK / frameSize));
  const buf = Buffer.alloc(framesPerChunk * frameSize);
  // Frames since the last commit: they count only once a commit frame closes them.
  let pending = new Map<number, number>();
  let s0 = st.s0;
  let s1 = st.s1;
  let off = st.end;
  for (;;) {
    const want = Math.min(buf.length, Math.floor((size - off) / frameSize) * frameSize);
    if (want <= 0) break;
    const { bytesRead } = await fh.read(buf, 0, want, off);
    const frames = Math.floor(bytesRead / frameSize);
    if (frames === 0) break;
    let i = 0;
    for (; i < frames; i++) {
      const f = buf.subarray(i * frameSize, (i + 1) * frameSize);
      if (f.readUInt32BE(8) !== salt1 || f.readUInt32BE(12) !== salt2) break;
      [s0, s1] = walChecksum(f.subarray(0, 8), bigEndian, s0, s1);
      [s0, s1] = walChecksum(f.subarray(FRAME_HEADER), bigEndian, s0, s1);
      if (s0 !== f.readUInt32BE(16) || s1 !== f.readUInt32BE(20)) break;
      const pgno = f.readUInt32BE(0);
      const frameOff = off + i * frameSize;
      pending.set(pgno, frameOff + FRAME_HEADER);
      const commit = f.readUInt32BE(4);
      if (commit > 0) {
        for (const [p, o] of pending) st.pages.set(p, o);
        pending = new Map();
        st.dbPages = commit;
        st.end = frameOff + frameSize;
        st.s0 = s0;
        st.s1 = s1;
      }
    }
    if (i < frames) break; // the first invalid frame ends the log
    off += frames * frameSize;
  }
  return st;
}

/** Reads pages through the WAL's page map, else from the main file. */
export class PageReader {
  constructor(
    private readonly main: FileHandle,
    private readonly wal: FileHandle | undefined,
    private readonly walPages: Map<number, number> | undefined,
    readonly pageSize: number,
    readonly pageCount: number,
    /** Page size minus the reserved bytes at the end of each page. */
    readonly usable: number,
  ) {}

  async page(pgno: number): Promise<Buffer> {
    if (pgno < 1 || pgno > this.pageCount) throw new Error(`page ${pgno} out of range 1..${this.pageCount}`);
    const buf = Buffer.alloc(this.pageSize);
    const walOff = this.walPages?.get(pgno);
    const { bytesRead } =
      walOff !== undefined && this.wal
        ? await this.wal.read(buf, 0, this.pageSize, walOff)
        : await this.main.read(buf, 0, this.pageSize, (pgno - 1) * this.pageSize);
    if (bytesRead !== this.pageSize) throw new Error(`page ${pgno} is short (${bytesRead} bytes)`);
    return buf;
  }
}

export function varint(b: Buffer, off: number): [value: number, length: number] {
  let v = 0;
  for (let i = 0; i < 8; i++) {
    if (off + i >= b.length) throw new Error('varint runs past the end of the page');
    const byte = b[off + i] as number;
    v = v * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) return [v, i + 1];
  }
  if (off + 8 >= b.length) throw new Error('varint runs past the end of the page');
  return [v * 256 + (b[off + 8] as number), 9];
}

function serialLength(t: number): number {
  if (t >= 12) return t % 2 === 0 ? (t - 12) / 2 : (t - 13) / 2;
  return [0, 1, 2, 3, 4, 6, 8, 8, 0, 0, 0, 0][t] as number;
}

export interface SchemaCounts {
  tables: number;
  indexes: number;
}

/** The payload bytes of a table-leaf cell needed to read its first two columns. */
async function cellPayload(pr: PageReader, page: Buffer, cell: number, need: (head: Buffer) => number): Promise<Buffer> {
  const [total, l1] = varint(page, cell);
  const [, l2] = varint(page, cell + l1);
  const start = cell + l1 + l2;
  const u = pr.usable;
  const x = u - 35;
  let local = total;
  if (total > x) {
    const m = Math.floor(((u - 12) * 32) / 255) - 23;
    const k = m + ((total - m) % (u - 4));
    local = k <= x ? k : m;
  }
  if (start + local > page.length) throw new Error('cell runs past the end of the page');
  const parts = [page.subarray(start, start + local)];
  let have = local;
  let want = Math.min(total, need(parts[0] as Buffer));
  let next = local < total ? page.readUInt32BE(start + local) : 0;
  let hops = 0;
  while (have < want && next !== 0) {
    if (++hops > pr.pageCount) throw new Error('overflow chain loops');
    const ov = await pr.page(next);
    const take = Math.min(u - 4, total - have);
    parts.push(ov.subarray(4, 4 + take));
    have += take;
    next = ov.readUInt32BE(0);
    want = Math.min(total, need(Buffer.concat(parts)));
  }
  if (have < want) throw new Error('record shorter than its header says');
  return Buffer.concat(parts);
}

/** Bytes of a record needed for its first two columns (or a guess while the header is partial). */
function firstTwoColumnsLength(p: Buffer): number {
  try {
    const [hdrLen, a] = varint(p, 0);
    if (p.length < hdrLen) return hdrLen;
    const [t0, b] = varint(p, a);
    const [t1] = varint(p, a + b);
    return hdrLen + serialLength(t0) + serialLength(t1);
  } catch {
    return p.length + 1; // the header itself is not complete yet
  }
}

function textColumns(p: Buffer): [string, string] {
  const [hdrLen, a] = varint(p, 0);
  const [t0, b] = varint(p, a);
  const [t1] = varint(p, a + b);
  const l0 = serialLength(t0);
  const l1 = serialLength(t1);
  const text = (t: number, off: number, len: number): string => (t >= 13 && t % 2 === 1 ? p.toString('utf8', off, off + len) : '');
  return [text(t0, hdrLen, l0), text(t1, hdrLen + l0, l1)];
}

/**
 * Counts sqlite_master's tables and indexes, leaving out SQLite's internal objects (names
 * starting "sqlite_": sqlite_sequence, sqlite_stat1, the automatic indexes of UNIQUE and
 * PRIMARY KEY constraints), as the sqlite3 shell's .tables does.
 */
export async function readSchema(pr: PageReader): Promise<SchemaCounts> {
  const counts: SchemaCounts = { tables: 0, indexes: 0 };
  if (pr.pageCount === 0) return counts;
  const seen = new Set<number>();
  const stack = [1];
  while (stack.length > 0) {
    const pgno = stack.pop() as number;
    if (seen.has(pgno)) throw new Error(`b-tree page ${pgno} reached twice`);
    seen.add(pgno);
    const page = await pr.page(pgno);
    const h = pgno === 1 ? 100 : 0;
    const kind = page[h];
    const cells = page.readUInt16BE(h + 3);
    if (kind === 0x05) {
      // Interior table page: left children in the cells, plus the right-most pointer.
      for (let i = 0; i < cells; i++) stack.push(page.readUInt32BE(page.readUInt16BE(h + 12 + i * 2)));
      stack.push(page.readUInt32BE(h + 8));
    } else if (kind === 0x0d) {
      for (let i = 0; i < cells; i++) {
        const payload = await cellPayload(pr, page, page.readUInt16BE(h + 8 + i * 2), firstTwoColumnsLength);
        const [type, name] = textColumns(payload);
        if (name.startsWith('sqlite_')) continue;
        if (type === 'table') counts.tables++;
        else if (type === 'index') counts.indexes++;
      }
    } else {
      throw new Error(`page ${pgno} is not a table b-tree page (type ${kind})`);
    }
  }
  return counts;
}

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    const st = await lstat(file);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A database's three files as lstat sees them (inode, size, mtime, ctime of each, or their
 * absence), and the newest ctime among them. Synchronous: three stats of local metadata.
 */
function filesState(file: string): { key: string; newestChangeMs: number } {
  let key = '';
  let newest = 0;
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
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
  /** Schema counts by database, with the state they were read at: parsed again only on change. */
  private readonly schemas = new Map<string, { key: string; counts: SchemaCounts }>();

  /** Forgets databases not in `keep` (deleted, or no longer matched by a glob). */
  retain(keep: Set<string>): void {
    for (const k of this.last.keys()) if (!keep.has(k)) this.last.delete(k);
    for (const k of this.wal.keys()) if (!keep.has(k)) this.wal.delete(k);
    for (const k of this.schemas.keys()) if (!keep.has(k)) this.schemas.delete(k);
  }

  /** undefined when the main file is gone or not a regular file. */
  async read(file: string): Promise<SqliteReading | undefined> {
    const before = filesState(file);
    const last = this.last.get(file);
    if (last && last.key === before.key) return last.reading;
    const startedAt = Date.now();
    const reading = await this.readAfresh(file);
    if (reading && before.newestChangeMs < startedAt - QUIET_BEFORE_READ_MS) this.last.set(file, { key: before.key, reading });
    else this.last.delete(file);
    return reading;
  }

  private async readAfresh(file: string): Promise<SqliteReading | undefined> {
    try {
      return await this.readOnce(file);
    } catch {
      // A checkpoint or a WAL reset between two of our reads can show pages from two moments;
      // one retry from scratch settles it. A second failure is a real problem with the file.
      this.wal.delete(file);
      this.schemas.delete(file);
      try {
        return await this.readOnce(file);
      } catch (err) {
        const mainBytes = await sizeOf(file);
        if (mainBytes === undefined) return undefined;
        return { path: file, mainBytes, ok: false, problem: err instanceof Error ? err.message : String(err) };
      }
    }
  }

  private async readOnce(file: string): Promise<SqliteReading | undefined> {
    const mainBytes = await sizeOf(file);
    if (mainBytes === undefined) return undefined;
    const walBytes = await sizeOf(`${file}-wal`);
    const shmBytes = await sizeOf(`${file}-shm`);
    const r: SqliteReading = { path: file, mainBytes, ok: false };
    if (walBytes !== undefined) r.walBytes = walBytes;
    if (shmBytes !== undefined) r.shmBytes = shmBytes;

    // O_RDONLY, no locks: plain reads never block a writer and never create a file.
    const main = await open(file, 'r');
    let walFh: FileHandle | undefined;
    try {
      const hdrBuf = Buffer.alloc(100);
      const { bytesRead } = await main.read(hdrBuf, 0, 100, 0);
      let wal: WalState | undefined;
      if (walBytes !== undefined && walBytes >= WAL_HEADER) {
        try {
          walFh = await open(`${file}-wal`, 'r');
          wal = await readWal(walFh, walBytes, this.wal.get(file));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // checkpointed away just now
        }
      }
      if (wal) this.wal.set(file, wal);
      else this.wal.delete(file);
      const walCommitted = wal?.dbPages !== undefined ? wal : undefined;

      if (bytesRead === 0 && !walCommitted) {
        // SQLite treats an empty file as an empty database.
        return { ...r, ok: true, pages: 0, freelistPages: 0, tables: 0, indexes: 0 };
      }
      // A database whose every page is still in the WAL has no header in the main file yet.
      const page1 = walCommitted?.pages.get(1);
      let header: DbHeader | undefined;
      if (page1 !== undefined && walFh) {
        const b = Buffer.alloc(100);
        await walFh.read(b, 0, 100, page1);
        header = parseDbHeader(b);
      } else {
        header = parseDbHeader(hdrBuf.subarray(0, bytesRead));
      }
      if (!header) return { ...r, problem: 'not a SQLite 3 database (bad header)' };
      const pageSize = header.pageSize;
      const pages = walCommitted?.dbPages ?? header.headerPages ?? Math.floor(mainBytes / pageSize);
      r.pageSize = pageSize;
      r.pages = pages;
      r.freelistPages = header.freelistPages;
      // The schema can only have changed if a transaction committed: the main file's change
      // counter moves on every commit in rollback mode, the WAL's last commit in WAL mode.
      const key = `${mainBytes}:${header.changeCounter}:${walCommitted ? `${walCommitted.salt1}:${walCommitted.end}` : '-'}`;
      let schema = this.schemas.get(file)?.key === key ? this.schemas.get(file)?.counts : undefined;
      if (!schema) {
        const pr = new PageReader(main, walFh, walCommitted?.pages, pageSize, pages, pageSize - header.reserved);
        schema = await readSchema(pr);
        this.schemas.set(file, { key, counts: schema });
      }
      r.tables = schema.tables;
      r.indexes = schema.indexes;
      r.ok = true;
      return r;
    } finally {
      await walFh?.close();
      await main.close();
    }
  }
}
