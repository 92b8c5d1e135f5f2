// Fuzz target: the SQLite format reader (src/sources/sqlite-format.ts, and the schema checks of
// sqlite-schema.ts) on random bytes and on
// mutations of real sqlite3-made files (page sizes 512 to 64 KiB, UTF-8 and both UTF-16s,
// a freelist, overflowing schema rows, a schema over many pages, a database whose last
// commits are only in its WAL). Properties: nothing escapes but SqliteReadError; no run reads
// more pages or bytes than its budget; an intact input gives sqlite3's PRAGMA figures.
// The inputs that once hung or misled the reader (corpus/sqlite/) run first, every time.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_BUDGET,
  readDatabase,
  readWal,
  SqliteReadError,
  type DbFigures,
  type PageStore,
  type ReadBudget,
} from '../../src/sources/sqlite-format.js';
import { parseCreate } from '../../src/sources/sqlite-schema.js';
import { fuzzParams, fuzzRuns } from '../helpers/fuzz.js';
import { makeSeeds, SQLITE3, type Pragmas } from '../helpers/sqlite-craft.js';
import { PYTHON } from '../helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from '../helpers/tmp.js';

const CORPUS = path.join(path.dirname(new URL(import.meta.url).pathname), 'corpus', 'sqlite');

interface Input {
  name: string;
  main: Buffer;
  wal?: Buffer;
  pragmas?: Pragmas;
}

/** Counts what the reader asks of its store, to hold it to its budget from outside. */
class CountingStore implements PageStore {
  pages = 0;
  bytes = 0;
  constructor(
    private readonly main: Buffer,
    private readonly wal: Buffer | undefined,
    private readonly walPages: Map<number, number> | undefined,
  ) {}
  async read(pgno: number, buf: Buffer): Promise<number> {
    this.pages++;
    this.bytes += buf.length;
    const walOff = this.walPages?.get(pgno);
    const src = walOff !== undefined && this.wal ? this.wal.subarray(walOff, walOff + buf.length) : this.main.subarray((pgno - 1) * buf.length, pgno * buf.length);
    return src.copy(buf);
  }
}

/** The reader's pipeline on bytes in memory: the WAL, page 1's header, then the figures. */
async function readBytes(input: Input, budget: ReadBudget): Promise<{ figures?: DbFigures; error?: SqliteReadError; store?: CountingStore }> {
  const wal = input.wal;
  const st = wal ? await readWal(async (buf, length, position) => wal.copy(buf, 0, position, position + length), wal.length, undefined) : undefined;
  const committed = st?.dbPages !== undefined ? st : undefined;
  if (input.main.length === 0 && !committed) return {};
  const head = Buffer.alloc(100);
  const page1 = committed?.pages.get(1);
  if (page1 !== undefined && wal) wal.copy(head, 0, page1, page1 + 100);
  else input.main.copy(head, 0, 0, 100);
  const store = new CountingStore(input.main, wal, committed?.pages);
  try {
    const figures = await readDatabase(store, { head, fileBytes: input.main.length, ...(committed ? { walPages: committed.dbPages as number } : {}) }, budget);
    return { figures, store };
  } catch (err) {
    if (err instanceof SqliteReadError) return { error: err, store };
    throw err;
  }
}

function withinBudget(store: CountingStore | undefined, budget: ReadBudget): void {
  if (!store) return;
  assert.ok(store.pages <= budget.maxPages, `${store.pages} pages read, budget ${budget.maxPages}`);
  assert.ok(store.bytes <= budget.maxBytes, `${store.bytes} bytes read, budget ${budget.maxBytes}`);
}

/** A database whose last transactions are only in its WAL, copied while its writer holds it open. */
const WAL_SNAPSHOT = String.raw`
import sqlite3, shutil, sys, json
d = sys.argv[1]
db = sqlite3.connect(d + '/live.db', isolation_level=None)
db.execute('pragma page_size=1024'); db.execute('pragma journal_mode=wal'); db.execute('pragma wal_autocheckpoint=0')
db.execute('create table a(x integer primary key, y text)')
db.execute("insert into a(y) with recursive c(i) as (select 1 union all select i + 1 from c where i < 50) select hex(randomblob(400)) from c")
db.execute('pragma wal_checkpoint(truncate)')
db.execute('create table b(z text unique)'); db.execute('create index b_z on b(z)')
db.execute('delete from a where x % 2 = 0')
shutil.copy(d + '/live.db', d + '/wal.db'); shutil.copy(d + '/live.db-wal', d + '/wal.db-wal')
one = lambda q: db.execute(q).fetchone()[0]
print(json.dumps({'pageSize': one('pragma page_size'), 'pages': one('pragma page_count'), 'freelist': one('pragma freelist_count'),
  'tables': one("select count(*) from sqlite_master where type='table' and name not like 'sqlite_%'"),
  'indexes': one("select count(*) from sqlite_master where type='index' and name not like 'sqlite_%'")}))
`;

describe('fuzz: SQLite format reader', () => {
  let dir: string;
  let inputs: Input[];
  before(() => {
    dir = makeTmpDir('hostaudit-fuzzsql-');
    inputs = makeSeeds(dir).map((s) => ({ name: s.name, main: s.bytes, pragmas: s.pragmas }));
    writeFileSync(path.join(dir, 'snap.py'), WAL_SNAPSHOT);
    const r = spawnSync(PYTHON, [path.join(dir, 'snap.py'), dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    inputs.push({
      name: 'wal-pending-1k',
      main: readFileSync(path.join(dir, 'wal.db')),
      wal: readFileSync(path.join(dir, 'wal.db-wal')),
      pragmas: JSON.parse(r.stdout) as Pragmas,
    });
  });
  after(() => removeTmpDir(dir));

  it('intact sqlite3-made files: the figures are sqlite3 PRAGMAs', async () => {
    assert.ok(inputs.some((i) => i.pragmas && i.pragmas.freelist > 0), 'a seed has a freelist');
    for (const input of inputs) {
      const { figures, error } = await readBytes(input, DEFAULT_BUDGET);
      assert.equal(error, undefined, `${input.name}: ${error?.message}`);
      const p = input.pragmas as Pragmas;
      assert.deepEqual(
        { pageSize: figures?.pageSize, pages: figures?.pages, freelist: figures?.freelistPages, tables: figures?.tables, indexes: figures?.indexes },
        p,
        input.name,
      );
    }
    const wal = inputs.find((i) => i.name === 'wal-pending-1k') as Input;
    assert.notEqual(wal.main.readUInt32BE(28), wal.pragmas?.pages, 'the WAL seed has commits beyond its main file');
  });

  it('the corpus of inputs that once failed: ok 0, within budget, at once', async () => {
    const files = readdirSync(CORPUS).filter((f) => /\.db(\.gz)?$/.test(f));
    assert.ok(files.length >= 4, `corpus has ${files.length} files`);
    for (const f of files) {
      const raw = readFileSync(path.join(CORPUS, f));
      const main = f.endsWith('.gz') ? gunzipSync(raw) : raw;
      const { figures, error, store } = await readBytes({ name: f, main }, DEFAULT_BUDGET);
      assert.equal(figures, undefined, `${f} is refused`);
      assert.ok(error, f);
      withinBudget(store, DEFAULT_BUDGET);
    }
  });

  it('random bytes, with and without a valid magic: only SqliteReadError, within budget', async () => {
    const magic = Buffer.from('SQLite format 3\0', 'latin1');
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), fc.boolean(), fc.constantFrom(512, 1024, 4096, 1), async (bytes, withMagic, ps) => {
        const main = Buffer.from(bytes);
        if (withMagic && main.length >= 24) {
          magic.copy(main, 0);
          main.writeUInt16BE(ps, 16);
          main[21] = 64;
          main[22] = 32;
          main[23] = 32;
        }
        withinBudget((await readBytes({ name: 'random', main }, DEFAULT_BUDGET)).store, DEFAULT_BUDGET);
      }),
      fuzzParams(1500),
    );
  });

  it('mutated real files (main file or WAL): only SqliteReadError, within budget, small budgets too', async (t) => {
    const outcomes = new Map<string, number>();
    const mutation = fc.record({
      seed: fc.nat(),
      inWal: fc.boolean(),
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }),
      cut: fc.option(fc.nat(), { freq: 4 }),
      budget: fc.constantFrom(DEFAULT_BUDGET, { maxPages: 3, maxBytes: 1 << 20 }, { maxPages: 64, maxBytes: 8192 }),
    });
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const seed = inputs[m.seed % inputs.length] as Input;
        const target = m.inWal && seed.wal ? Buffer.from(seed.wal) : Buffer.from(seed.main);
        // Flips land mostly in the first pages, where the header and the schema are.
        for (const [at, x] of m.flips) {
          const pos = at % Math.min(target.length, at % 2 === 0 ? 4096 : target.length);
          target[pos] = (target[pos] as number) ^ x;
        }
        const bytes = m.cut === null ? target : target.subarray(0, m.cut % (target.length + 1));
        const input: Input = m.inWal && seed.wal ? { name: seed.name, main: seed.main, wal: bytes } : { name: seed.name, main: bytes, ...(seed.wal ? { wal: seed.wal } : {}) };
        const r = await readBytes(input, m.budget);
        withinBudget(r.store, m.budget);
        const k = r.figures ? 'read' : (r.error?.kind ?? 'empty');
        outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
      }),
      fuzzParams(3000),
    );
    t.diagnostic(`outcomes: ${[...outcomes].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  });

  it('schema statements, random and mutated from real ones: a verdict or SqliteReadError, nothing else', () => {
    const real = [
      'CREATE TABLE a(x integer primary key, y text unique)',
      'CREATE INDEX a_y2 on a(y, x)',
      "CREATE TABLE \"odd name\"(\"a\" TEXT DEFAULT 'x''y' CHECK (a <> ''), b REAL DEFAULT -1.5e3, FOREIGN KEY (b) REFERENCES t(c)) WITHOUT ROWID",
      'CREATE VIEW v AS SELECT 1 /* unterminated',
      'CREATE TRIGGER tr AFTER INSERT ON a BEGIN SELECT 1; SELECT 2; END',
      'CREATE VIRTUAL TABLE f USING fts5(body)',
    ];
    const statement = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.record({ base: fc.constantFrom(...real), at: fc.nat(), ch: fc.string({ minLength: 0, maxLength: 3 }), cut: fc.boolean() }).map(({ base, at, ch, cut }) => {
        const i = at % (base.length + 1);
        return cut ? base.slice(0, i) : base.slice(0, i) + ch + base.slice(i + 1);
      }),
    );
    for (const r of real) assert.equal(typeof parseCreate(r), 'object', r);
    fc.assert(
      fc.property(statement, (sql) => {
        try {
          const v = parseCreate(sql);
          assert.ok(typeof v === 'string' || ['table', 'index', 'view', 'trigger'].includes(v.kind));
        } catch (err) {
          if (!(err instanceof SqliteReadError)) throw err;
        }
      }),
      fuzzParams(3000),
    );
  });

  it('a statement refused here is refused by sqlite3 too (mutated real statements, sqlite3 as the judge)', (t) => {
    const setup = 'create table t(c primary key, d); create table a(x, y);';
    const real = [
      "CREATE TABLE p(id integer primary key autoincrement, code varchar(20) not null unique collate nocase, price decimal(10, 2) default (0.5 * 2) check (price >= 0), ref int references t(c) on delete set null on update cascade deferrable initially deferred, g int generated always as (price * 2) stored, n text default 'x' constraint nn not null on conflict fail, unique (code, price), foreign key (ref) references t(c) match simple)",
      'CREATE TABLE q(a int primary key desc on conflict replace, b blob default x\'00ff\', c real default -1.5, d default current_timestamp, e as (a + 1) virtual, f text null unique)',
      'CREATE INDEX ia on a(lower(y), x desc) where x > 0',
    ];
    const statement = fc.record({ base: fc.constantFrom(...real), at: fc.nat(), ch: fc.constantFrom('', ' ', ',', '(', ')', 'x', '1', '-', "'", '"', '\u00e9', 'NOT', 'KEY', 'ON') }).map(({ base, at, ch }) => {
      const i = at % (base.length + 1);
      return base.slice(0, i) + ch + base.slice(i + 1);
    });
    for (const r of real) assert.equal(typeof parseCreate(r), 'object', `${r}: ${String(parseCreate(r))}`);
    let refused = 0;
    let both = 0;
    fc.assert(
      fc.property(statement, (sql) => {
        let ours: boolean;
        try {
          ours = typeof parseCreate(sql) === 'object';
        } catch (err) {
          if (!(err instanceof SqliteReadError)) throw err;
          ours = false;
        }
        if (ours) return;
        refused++;
        const r = spawnSync(SQLITE3, [':memory:', `${setup} ${sql};`], { encoding: 'utf8' });
        const theirs = r.status === 0 && !/Error/.test(r.stderr);
        if (!theirs) both++;
        assert.equal(theirs, false, `refused here, accepted by sqlite3: ${sql}`);
      }),
      { ...fuzzParams(400), numRuns: Math.min(fuzzRuns(400), 3000) },
    );
    t.diagnostic(`statements refused here: ${refused}, all refused by sqlite3 too (${both})`);
  });
});
