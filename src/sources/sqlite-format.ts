// The SQLite file format, parsed from bytes the watched host wrote (hostile until parsed):
// the 100-byte header, the WAL, and the b-trees needed for the figures (sqlite_master, the
// freelist). Accepts what SQLite accepts and refuses what it refuses
// (https://www.sqlite.org/fileformat2.html; btree.c lockBtree and prepare.c for the checks
// SQLite makes when it opens a database and loads its schema). Every read goes through a
// PageWalker, which visits each page at most once and stops at the page and byte budget or
// at the caller's abort signal: a loop in a chain, a child pointing up or a huge schema costs
// one refused database, never the caller. No I/O here beyond the PageStore it is given.
import { checkSchemaRow, SchemaModel } from './sqlite-schema.js';

export const MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const WAL_MAGIC_LE = 0x377f0682;
const WAL_MAGIC_BE = 0x377f0683;
export const WAL_HEADER = 32;
const FRAME_HEADER = 24;

/** Why a read stopped: the file is not what SQLite accepts, it is over budget, or the caller gave up. */
export type SqliteProblemKind = 'corrupt' | 'budget' | 'aborted';

/** The one error the format reader throws. Anything else escaping it is a bug. */
export class SqliteReadError extends Error {
  constructor(
    readonly kind: SqliteProblemKind,
    message: string,
  ) {
    super(message);
    this.name = 'SqliteReadError';
  }
}

const corrupt = (msg: string): SqliteReadError => new SqliteReadError('corrupt', msg);

export type TextEncoding = 'utf8' | 'utf16le' | 'utf16be';

export interface DbHeader {
  pageSize: number;
  /** Reserved bytes at the end of each page. */
  reserved: number;
  changeCounter: number;
  /** Database size in pages from the header, when that field is valid; else undefined. */
  headerPages: number | undefined;
  freelistTrunk: number;
  freelistPages: number;
  schemaFormat: number;
  encoding: TextEncoding;
  readVersion: number;
}

/** Parses the 100-byte database header; undefined when it is not a SQLite 3 database header. */
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
  // SQLite masks the encoding with 3 and reads 0 as UTF-8 (prepare.c sqlite3InitOne).
  const enc = h.readUInt32BE(56) & 3;
  return {
    pageSize,
    reserved: h.readUInt8(20),
    changeCounter,
    headerPages,
    freelistTrunk: h.readUInt32BE(32),
    freelistPages: h.readUInt32BE(36),
    // SQLite keeps only the low byte of the schema format (prepare.c: (u8)meta[...]).
    schemaFormat: h[47] as number,
    encoding: enc === 2 ? 'utf16le' : enc === 3 ? 'utf16be' : 'utf8',
    readVersion: h.readUInt8(19),
  };
}

/**
 * What SQLite refuses in a header it can parse (lockBtree): a read version above 2, payload
 * fractions other than 64/32/32, a usable size below 480, a schema format above 4.
 */
export function headerProblem(raw: Buffer, h: DbHeader): string | undefined {
  if (h.readVersion > 2) return `file format read version ${h.readVersion} (SQLite reads 1 and 2)`;
  if (raw[21] !== 64 || raw[22] !== 32 || raw[23] !== 32) return 'payload fractions are not 64/32/32';
  if (h.pageSize - h.reserved < 480) return `usable page size ${h.pageSize - h.reserved} below 480`;
  if (h.schemaFormat > 4) return `unsupported schema format ${h.schemaFormat}`;
  return undefined;
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

/** Reads `length` bytes at `position` of some file; bytesRead may be short at its end. */
export type ReadAt = (buf: Buffer, length: number, position: number) => Promise<number>;

const WAL_CHUNK = 1 << 20;

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new SqliteReadError('aborted', 'read abandoned: the collector deadline passed');
}

/**
 * Reads the WAL from `prev.end` (or from its header when prev does not match the file any
 * more: a reset writes new salts, a truncation shrinks the file) and returns the new state, or
 * undefined when the file holds no valid WAL header. Work is linear in the new frames, read a
 * megabyte at a time; on abort the state keeps what was read up to the last commit and
 * `onAbort` receives it, so the next read resumes there.
 */
export async function readWal(
  readAt: ReadAt,
  size: number,
  prev: WalState | undefined,
  signal?: AbortSignal,
  onAbort?: (st: WalState) => void,
): Promise<WalState | undefined> {
  if (size < WAL_HEADER) return undefined;
  const hdr = Buffer.alloc(WAL_HEADER);
  if ((await readAt(hdr, WAL_HEADER, 0)) < WAL_HEADER) return undefined;
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
    if (signal?.aborted) {
      onAbort?.(st);
      checkAbort(signal);
    }
    const want = Math.min(buf.length, Math.floor((size - off) / frameSize) * frameSize);
    if (want <= 0) break;
    const bytesRead = await readAt(buf, want, off);
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

/** Where pages come from: the main file, or the WAL's newest committed copy. */
export interface PageStore {
  /** Reads page `pgno` (1-based) into `buf` (one page); returns the bytes read (short at the end of the file). */
  read(pgno: number, buf: Buffer): Promise<number>;
}

/** The limits of one database read. */
export interface ReadBudget {
  /** Most pages read (b-tree, overflow and freelist trunk pages together). */
  maxPages: number;
  /** Most page bytes read. */
  maxBytes: number;
  signal?: AbortSignal;
}

/** Defaults: ample for any real schema (thousands of tables), a few milliseconds of reads. */
export const DEFAULT_BUDGET: Readonly<ReadBudget> = { maxPages: 8192, maxBytes: 16 << 20 };

/**
 * Reads pages for one database read: each page at most once (a second visit is a loop or a
 * page shared by two owners, which SQLite's integrity check calls corruption too), within the
 * budget, checking the abort signal before every read.
 */
export class PageWalker {
  private readonly seen = new Set<number>();
  pagesRead = 0;
  bytesRead = 0;

  constructor(
    private readonly store: PageStore,
    readonly pageSize: number,
    readonly pageCount: number,
    /** Page size minus the reserved bytes at the end of each page. */
    readonly usable: number,
    private readonly budget: ReadBudget,
  ) {}

  /** Claims a page without reading it (a freelist leaf): a later visit is a second owner. */
  claim(pgno: number, what: string): void {
    if (pgno < 1 || pgno > this.pageCount) throw corrupt(`${what} page ${pgno} out of range 1..${this.pageCount}`);
    if (this.seen.has(pgno)) throw corrupt(`${what} page ${pgno} is reached twice`);
    this.seen.add(pgno);
  }

  /** Reads a page into `into` (a scratch buffer the caller reuses) or a new buffer. */
  async page(pgno: number, what: string, into?: Buffer): Promise<Buffer> {
    checkAbort(this.budget.signal);
    this.claim(pgno, what);
    if (this.pagesRead + 1 > this.budget.maxPages || this.bytesRead + this.pageSize > this.budget.maxBytes) {
      throw new SqliteReadError('budget', `read budget exceeded (${this.budget.maxPages} pages, ${this.budget.maxBytes} bytes)`);
    }
    this.pagesRead++;
    this.bytesRead += this.pageSize;
    // SQLite reads a page cut short by the end of the file as zero-filled.
    const buf = into ?? Buffer.alloc(this.pageSize);
    if (into) buf.fill(0);
    await this.store.read(pgno, buf);
    return buf;
  }
}

export function varint(b: Buffer, off: number, end = b.length): [value: number, length: number] {
  let v = 0;
  for (let i = 0; i < 8; i++) {
    if (off + i >= end) throw corrupt('varint runs past the end of the page');
    const byte = b[off + i] as number;
    v = v * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) return [v, i + 1];
  }
  if (off + 8 >= end) throw corrupt('varint runs past the end of the page');
  return [v * 256 + (b[off + 8] as number), 9];
}

export function serialLength(t: number): number {
  if (t >= 12) return t % 2 === 0 ? (t - 12) / 2 : (t - 13) / 2;
  return [0, 1, 2, 3, 4, 6, 8, 8, 0, 0, 0, 0][t] as number;
}

/** One column of a record: NULL, a number, text (already decoded) or a blob. */
export type Value = null | number | bigint | string | Buffer;

/** A column value as sqlite3_value_text gives it (blobs read as text in the database encoding). */
export function valueText(v: Value, enc: TextEncoding): string | null {
  if (v === null) return null;
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return decodeText(v, enc);
  return String(v);
}

export function decodeText(b: Buffer, enc: TextEncoding): string {
  if (enc === 'utf8') return b.toString('utf8');
  const even = b.subarray(0, b.length - (b.length % 2));
  if (enc === 'utf16le') return even.toString('utf16le');
  return Buffer.from(even).swap16().toString('utf16le');
}

/** Decodes a record's columns (SQLite's record format); bounded by the payload it is given. */
export function decodeRecord(p: Buffer, enc: TextEncoding, maxColumns: number): Value[] {
  const [hdrLen, a] = varint(p, 0);
  // SQLite refuses a header longer than 98307 bytes or than the payload (vdbe.c OP_Column).
  if (hdrLen > 98307 || hdrLen > p.length || hdrLen < a) throw corrupt('record header longer than its payload');
  const out: Value[] = [];
  let h = a;
  let d = hdrLen;
  while (h < hdrLen && out.length < maxColumns) {
    const [t, l] = varint(p, h, hdrLen);
    h += l;
    const len = serialLength(t);
    if (d + len > p.length) throw corrupt('record column runs past its payload');
    out.push(columnValue(p, t, d, len, enc));
    d += len;
  }
  return out;
}

function columnValue(p: Buffer, t: number, off: number, len: number, enc: TextEncoding): Value {
  switch (t) {
    case 0:
    case 10:
    case 11:
      return null;
    case 1:
      return p.readInt8(off);
    case 2:
      return p.readInt16BE(off);
    case 3:
      return p.readIntBE(off, 3);
    case 4:
      return p.readInt32BE(off);
    case 5:
      return p.readIntBE(off, 6);
    case 6:
      return p.readBigInt64BE(off);
    case 7:
      return p.readDoubleBE(off);
    case 8:
      return 0;
    case 9:
      return 1;
    default:
      return t % 2 === 1 ? decodeText(p.subarray(off, off + len), enc) : Buffer.from(p.subarray(off, off + len));
  }
}

/**
 * Bytes of a record holding its first `columns` columns, and whether that is final (the
 * record header is complete in `p`) or a lower bound to read up to first.
 */
function recordLengthFor(p: Buffer, columns: number): { length: number; final: boolean } {
  let hdrLen: number;
  let a: number;
  try {
    [hdrLen, a] = varint(p, 0);
  } catch {
    return { length: p.length + 9, final: false };
  }
  if (hdrLen > p.length) return { length: Math.min(hdrLen, 98308), final: false };
  let h = a;
  let d = hdrLen;
  for (let n = 0; n < columns && h < hdrLen; n++) {
    const [t, l] = varint(p, h, hdrLen);
    h += l;
    d += serialLength(t);
  }
  return { length: d, final: true };
}

/**
 * A table-leaf cell's payload, as much of it as the first `columns` columns need, following
 * its overflow chain through the walker (each page once, within the budget). The pieces are
 * joined again only while the record header (at most 98307 bytes) may be incomplete, so a
 * long chain costs linear work.
 */
async function cellPayload(w: PageWalker, page: Buffer, cell: number, columns: number): Promise<Buffer> {
  const u = w.usable;
  const [total, l1] = varint(page, cell);
  const [, l2] = varint(page, cell + l1);
  const start = cell + l1 + l2;
  const x = u - 35;
  let local = total;
  if (total > x) {
    const m = Math.floor(((u - 12) * 32) / 255) - 23;
    const k = m + ((total - m) % (u - 4));
    local = k <= x ? k : m;
  }
  // As SQLite: a payload wholly on the page may run to the page's end, a spilled one only to the usable end.
  if (local === total ? start + local > w.pageSize : start + local + 4 > u) throw corrupt('cell runs past the end of the page');
  const head = page.subarray(start, start + local);
  if (local === total) return head;
  const parts = [head];
  let have = local;
  let need = recordLengthFor(head, columns);
  let next = page.readUInt32BE(start + local);
  // Overflow pages are read into one scratch page and only their payload bytes are kept.
  const scratch = Buffer.alloc(w.pageSize);
  while (have < Math.min(total, need.length)) {
    if (next === 0) throw corrupt('overflow chain ends before its payload');
    const ov = await w.page(next, 'overflow', scratch);
    const take = Math.min(u - 4, total - have);
    parts.push(Buffer.from(ov.subarray(4, 4 + take)));
    have += take;
    next = ov.readUInt32BE(0);
    if (!need.final) {
      const joined = Buffer.concat(parts);
      parts.length = 0;
      parts.push(joined);
      need = recordLengthFor(joined, columns);
    }
  }
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

/** SQLite's limit on b-tree depth (BTCURSOR_MAX_DEPTH). */
const MAX_DEPTH = 20;

/**
 * Calls `row` for every record of the table b-tree rooted at `root`, in key order; refuses
 * what SQLite's cursor refuses (a page that is not a table page, more cells than fit, an
 * empty non-root page, a child out of range, depth over 20).
 */
async function walkTable(w: PageWalker, root: number, columns: number, row: (payload: Buffer) => void): Promise<void> {
  const maxCells = Math.floor((w.pageSize - 8) / 6);
  const visit = async (pgno: number, depth: number): Promise<void> => {
    if (depth >= MAX_DEPTH) throw corrupt(`b-tree deeper than ${MAX_DEPTH}`);
    const page = await w.page(pgno, 'b-tree');
    const h = pgno === 1 ? 100 : 0;
    const kind = page[h];
    if (kind !== 0x05 && kind !== 0x0d) throw corrupt(`page ${pgno} is not a table b-tree page (type ${kind})`);
    const cells = page.readUInt16BE(h + 3);
    if (cells > maxCells) throw corrupt(`page ${pgno} claims ${cells} cells`);
    const interior = kind === 0x05;
    if (cells === 0 && pgno !== root) throw corrupt(`page ${pgno} has no cells`);
    if (cells === 0 && interior && root !== 1) throw corrupt(`root page ${pgno} is an empty interior page`);
    const ptrs = h + (interior ? 12 : 8);
    if (ptrs + cells * 2 > w.pageSize) throw corrupt(`page ${pgno}: cell pointers run past the page`);
    for (let i = 0; i < cells; i++) {
      // SQLite takes a cell offset modulo the page size and checks only what it reads from there.
      const cell = page.readUInt16BE(ptrs + i * 2) & (w.pageSize - 1);
      if (interior) {
        if (cell + 4 > w.pageSize) throw corrupt(`page ${pgno}: cell ${i} runs past the page`);
        await visit(page.readUInt32BE(cell), depth + 1);
      } else {
        row(await cellPayload(w, page, cell, columns));
      }
    }
    if (interior) await visit(page.readUInt32BE(h + 8), depth + 1);
  };
  await visit(root, 0);
}

/**
 * Walks the freelist's trunk chain: each trunk in range, read once, naming at most
 * usable/4 - 2 leaves, each leaf in range and owned once. A loop or a page shared with
 * another owner is corruption (SQLite's integrity check says so); the count in the header
 * is what PRAGMA freelist_count reports, and SQLite opens a file whose chain is shorter.
 */
async function walkFreelist(w: PageWalker, first: number): Promise<void> {
  let trunk = first;
  const perTrunk = Math.floor(w.usable / 4) - 2;
  while (trunk !== 0) {
    const page = await w.page(trunk, 'freelist trunk');
    const leaves = page.readUInt32BE(4);
    if (leaves > perTrunk) throw corrupt(`freelist trunk ${trunk} claims ${leaves} leaves`);
    for (let i = 0; i < leaves; i++) w.claim(page.readUInt32BE(8 + i * 4), 'freelist leaf');
    trunk = page.readUInt32BE(0);
  }
}

export interface DbFigures {
  pageSize: number;
  pages: number;
  freelistPages: number;
  tables: number;
  indexes: number;
  encoding: TextEncoding;
  /** Pages read to get them (the budget's measure). */
  pagesRead: number;
}

export interface DbInput {
  /** The first 100 bytes of page 1 as SQLite would see them (from the WAL when it holds page 1), zero-filled. */
  head: Buffer;
  /** Size of the main file in bytes. */
  fileBytes: number;
  /** The database size in pages from the WAL's last commit, in WAL mode. */
  walPages?: number;
}

/**
 * The figures of one database from its pages, or SqliteReadError: 'corrupt' where SQLite
 * refuses to open it or to load its schema (and for loops and shared pages, which its
 * integrity check refuses), 'budget' past the budget, 'aborted' on the signal.
 */
export async function readDatabase(store: PageStore, input: DbInput, budget: ReadBudget = DEFAULT_BUDGET): Promise<DbFigures> {
  checkAbort(budget.signal);
  const header = parseDbHeader(input.head);
  if (!header) throw corrupt('not a SQLite 3 database (bad header)');
  const bad = headerProblem(input.head, header);
  if (bad) throw corrupt(bad);
  const { pageSize } = header;
  // Pages the file holds as SQLite counts them: the WAL's, else the file size rounded up.
  const filePages = input.walPages ?? Math.ceil(input.fileBytes / pageSize);
  const pages = header.headerPages ?? filePages;
  if (pages > filePages) throw corrupt(`the header says ${pages} pages, the file holds ${filePages}`);
  const w = new PageWalker(store, pageSize, pages, pageSize - header.reserved, budget);
  const model = new SchemaModel(pages);
  await walkTable(w, 1, 5, (payload) => checkSchemaRow(model, decodeRecord(payload, header.encoding, 5), header.encoding));
  await walkFreelist(w, header.freelistTrunk);
  return {
    pageSize,
    pages,
    freelistPages: header.freelistPages,
    tables: model.tables,
    indexes: model.indexes,
    encoding: header.encoding,
    pagesRead: w.pagesRead,
  };
}
