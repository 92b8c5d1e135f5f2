// Hand-built SQLite files for the attacks sqlite3 itself never writes: overflow chains that
// loop or that many cells share. Pages of 512 bytes; page 1 holds sqlite_master's only leaf.
// Also sqlite3-made reference files and their PRAGMA figures (the fuzz and mutation tests).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

const PAGE = 512;
const USABLE = PAGE;

function varintBytes(v: number): number[] {
  if (v < 0x80) return [v];
  const out: number[] = [];
  let x = v;
  while (x > 0) {
    out.unshift(x & 0x7f);
    x = Math.floor(x / 128);
  }
  return out.map((b, i) => (i < out.length - 1 ? b | 0x80 : b));
}

function header(pages: number, headerPagesValid: boolean): Buffer {
  const h = Buffer.alloc(100);
  h.write('SQLite format 3\0', 0, 'latin1');
  h.writeUInt16BE(PAGE, 16);
  h[18] = 1;
  h[19] = 1;
  h[21] = 64;
  h[22] = 32;
  h[23] = 32;
  h.writeUInt32BE(1, 24); // change counter
  h.writeUInt32BE(pages, 28);
  h.writeUInt32BE(4, 44); // schema format
  h.writeUInt32BE(1, 56); // UTF-8
  h.writeUInt32BE(headerPagesValid ? 1 : 0, 92); // version-valid-for
  return h;
}

const localSize = (total: number): number => {
  const m = Math.floor(((USABLE - 12) * 32) / 255) - 23;
  const k = m + ((total - m) % (USABLE - 4));
  return total <= USABLE - 35 ? total : k <= USABLE - 35 ? k : m;
};

/**
 * A sqlite_master leaf cell for `CREATE TABLE x(a)` padded with spaces to about `sqlLen`
 * bytes, so reading its sql column means following the overflow chain from `overflow`
 * (whose pages are spaces too, so every byte of it is valid SQL).
 */
function overflowCell(sqlLen: number, overflow: number): Buffer {
  let len = sqlLen;
  for (;;) {
    const types = [23, 15, 15, 8, ...varintBytes(13 + 2 * len)];
    const total = types.length + 1 + 5 + 1 + 1 + len;
    const local = localSize(total);
    if (local + 8 > 80) {
      len++; // keep the local part small so several cells fit on page 1
      continue;
    }
    const payload = Buffer.alloc(total, 0x20);
    const head = Buffer.concat([Buffer.from([types.length + 1, ...types]), Buffer.from('tablexxCREATE TABLE x(a)')]);
    head.copy(payload, 0);
    const cell = Buffer.concat([Buffer.from([...varintBytes(total), 1]), payload.subarray(0, local), Buffer.alloc(4)]);
    cell.writeUInt32BE(overflow, cell.length - 4);
    return cell;
  }
}

function page1(cells: Buffer[], pages: number, headerPagesValid: boolean): Buffer {
  const p = Buffer.alloc(PAGE);
  header(pages, headerPagesValid).copy(p, 0);
  p[100] = 0x0d;
  p.writeUInt16BE(cells.length, 103);
  let end = PAGE;
  cells.forEach((c, i) => {
    end -= c.length;
    c.copy(p, end);
    p.writeUInt16BE(end, 108 + i * 2);
  });
  assert.ok(end >= 108 + cells.length * 2, 'cells fit on page 1');
  p.writeUInt16BE(end, 105);
  return p;
}

/** 1 KB: one cell whose overflow chain is page 2, whose next page is page 2 again. */
export function selfLoopingChain(headerPages = 0x7fffffff, headerPagesValid = true): Buffer {
  const p2 = Buffer.alloc(PAGE, 0x20);
  p2.writeUInt32BE(2, 0);
  return Buffer.concat([page1([overflowCell(5000, 2)], headerPages, headerPagesValid), p2]);
}

/** `chain` overflow pages in one acyclic chain, which each of `cells` cells starts at page 2. */
export function sharedLongChain(chain: number, cells = 8): Buffer {
  const pages = [page1(Array.from({ length: cells }, () => overflowCell((chain - 1) * (USABLE - 4), 2)), chain + 1, true)];
  for (let i = 0; i < chain; i++) {
    const p = Buffer.alloc(PAGE, 0x20);
    p.writeUInt32BE(i === chain - 1 ? 0 : i + 3, 0);
    pages.push(p);
  }
  return Buffer.concat(pages);
}

export const SQLITE3 = '/usr/bin/sqlite3';

export function sqlite3(db: string, sql: string, readonly = false): { ok: boolean; out: string; err: string } {
  const r = spawnSync(SQLITE3, [...(readonly ? ['-readonly'] : []), db, sql], { encoding: 'utf8' });
  return { ok: r.status === 0 && !/Error/.test(r.stderr), out: r.stdout.trim(), err: r.stderr.trim() };
}

export interface Pragmas {
  pageSize: number;
  pages: number;
  freelist: number;
  tables: number;
  indexes: number;
}

const PRAGMAS =
  "pragma page_size; pragma page_count; pragma freelist_count; select count(*) from sqlite_master where type='table' and name not like 'sqlite_%'; select count(*) from sqlite_master where type='index' and name not like 'sqlite_%';";

/** sqlite3's own figures for a file, read-only; undefined when sqlite3 refuses the file. */
export function pragmas(db: string): Pragmas | undefined {
  const r = sqlite3(db, PRAGMAS, true);
  if (!r.ok) return undefined;
  const [pageSize, pages, freelist, tables, indexes] = r.out.split('\n').map(Number) as number[];
  return { pageSize, pages, freelist, tables, indexes } as Pragmas;
}

/**
 * sqlite3's verdict on a file, as the exporter's ok means it: SQLite opens it and loads its
 * schema (`PRAGMA schema_version` and a count of sqlite_master), read-only.
 */
export function sqliteOpens(db: string): boolean {
  return sqlite3(db, 'pragma schema_version; select count(*) from sqlite_master', true).ok;
}

export interface Seed {
  name: string;
  bytes: Buffer;
  pragmas: Pragmas;
}

/**
 * Real databases made by sqlite3: several page sizes, the three text encodings, with and
 * without a freelist, schema rows long enough to overflow, a schema over several pages.
 */
export function makeSeeds(dir: string): Seed[] {
  const specs: [string, string][] = [
    ['plain-4k', 'create table a(x integer primary key, y text unique); create index a_y2 on a(y, x); insert into a(y) values (1),(2);'],
    [
      'freelist-1k',
      "pragma page_size=1024; create table t(a, b); insert into t select value, replace(hex(zeroblob(200)), '00', printf('%02x', value % 251)) from generate_series(1, 400); create index t_a on t(a); delete from t where a % 3 <> 0;",
    ],
    ['overflow-512', `pragma page_size=512; create table long_one(${Array.from({ length: 80 }, (_, i) => `column_number_${i} text`).join(', ')}); create index l_i on long_one(column_number_1); create view v as select 1;`],
    ['utf16le', "pragma encoding='UTF-16le'; create table u(a text primary key, b); create index u_b on u(b); create table w(c);"],
    ['utf16be-2k', "pragma page_size=2048; pragma encoding='UTF-16be'; create table u(a, b unique); create index u_a on u(a);"],
    ['many-tables-1k', `pragma page_size=1024; ${Array.from({ length: 70 }, (_, i) => `create table t${i}(a integer primary key, b); create index i${i} on t${i}(b);`).join(' ')}`],
    [
      'rich-schema-4k',
      `create table parent(id integer primary key, code varchar(20) not null unique collate nocase, price decimal(10, 2) default (0.5 * 2) check (price >= 0));
       create table child(id integer primary key autoincrement, parent_id int references parent(id) on delete cascade, note text default 'it''s', created real default current_timestamp, unique (parent_id, note), foreign key (parent_id) references parent(id));
       create table kv(k text primary key, v blob) without rowid;
       create index child_expr on child(lower(note), parent_id desc) where parent_id > 0;
       create unique index parent_code on parent(code collate binary);
       create view joined as select p.code, c.note from parent p join child c on c.parent_id = p.id;
       create trigger child_ins after insert on child begin update parent set price = price + 1 where id = new.parent_id; end;
       insert into parent(code, price) values ('a', 1), ('b', 2);`,
    ],
    ['wal-64k', 'pragma page_size=65536; pragma journal_mode=wal; create table a(x); create index a_x on a(x); insert into a values (1); pragma wal_checkpoint(truncate);'],
  ];
  return specs.map(([name, sql]) => {
    const db = path.join(dir, `${name}.db`);
    rmSync(db, { force: true });
    const r = sqlite3(db, sql);
    assert.ok(r.ok, `${name}: ${r.err}`);
    const p = pragmas(db);
    assert.ok(p, `${name}: sqlite3 reads its own file`);
    return { name, bytes: readFileSync(db), pragmas: p };
  });
}
