// The attacks of issue 12 on the SQLite reader, each of which 0.1.3 failed: an overflow chain
// that loops (1 KB), cells sharing one long chain, a file cut short of its header's page
// count, UTF-16 databases, a literal path that is a symlink, a name that is not UTF-8, and a
// read (schema or WAL) abandoned by its deadline. Real files: sqlite3 makes them, or test/helpers/sqlite-craft.ts
// builds what sqlite3 never writes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteCollector } from '../../src/collectors/sqlite.js';
import { Logger } from '../../src/log.js';
import { SqliteReader } from '../../src/sources/sqlite-file.js';
import { readDatabase, readWal, SqliteReadError, type WalState } from '../../src/sources/sqlite-format.js';
import { expandGlobs } from '../../src/sources/sqlite-glob.js';
import { PYTHON } from '../helpers/supervisord.js';
import { pragmas, selfLoopingChain, sharedLongChain, sqlite3, sqliteOpens } from '../helpers/sqlite-craft.js';
import { makeTmpDir, removeTmpDir } from '../helpers/tmp.js';

// A broken reader hangs rather than fails: the test's own timeout turns that into a failure.
const HANG = { timeout: 60_000 };

describe('hostile SQLite files', () => {
  let dir: string;
  before(() => {
    dir = makeTmpDir('hostaudit-sqlhostile-');
  });
  after(() => removeTmpDir(dir));
  const file = (name: string, bytes: Buffer): string => {
    const f = path.join(dir, name);
    writeFileSync(f, bytes);
    return f;
  };

  it('a 1 KB file whose overflow chain points to itself: ok 0, at once', HANG, async () => {
    for (const [name, bytes] of [
      ['loop-big-header.db', selfLoopingChain()],
      ['loop-stale-header.db', selfLoopingChain(2, false)],
      ['loop-true-header.db', selfLoopingChain(2, true)],
    ] as const) {
      const f = file(name, bytes);
      assert.equal(bytes.length, 1024);
      const r = await new SqliteReader().read(f);
      assert.equal(r?.ok, false, name);
      assert.equal(r?.mainBytes, 1024);
      assert.equal(sqliteOpens(f), false, `${name}: sqlite3 refuses it too`);
    }
  });

  it('many cells sharing one long acyclic chain: ok 0, at once', HANG, async () => {
    const f = file('shared.db', sharedLongChain(4000, 8));
    const r = await new SqliteReader().read(f);
    assert.equal(r?.ok, false);
    assert.match(r?.problem ?? '', /twice|budget/);
  });

  it('a database cut to 8 of its 88 pages: ok 0, as sqlite3 says', async () => {
    const f = path.join(dir, 'cut.db');
    assert.ok(sqlite3(f, "pragma page_size=1024; create table t(a, b); insert into t select value, hex(randomblob(300)) from generate_series(1, 86);").ok);
    assert.equal(pragmas(f)?.pages, 88, 'the fixture has 88 pages');
    truncateSync(f, 8 * 1024);
    assert.equal(sqliteOpens(f), false, 'sqlite3 calls it malformed');
    const r = await new SqliteReader().read(f);
    assert.equal(r?.ok, false);
    assert.equal(r?.pages, undefined, 'no page count made up from the header');
  });

  it('UTF-16le and UTF-16be databases: tables and indexes as sqlite3 counts them', async () => {
    for (const enc of ['UTF-16le', 'UTF-16be']) {
      const f = path.join(dir, `${enc}.db`);
      assert.ok(sqlite3(f, `pragma encoding='${enc}'; create table a(x text unique, y); create index a_y on a(y); create table b(z); create index b_z on b(z);`).ok);
      const want = pragmas(f);
      const r = await new SqliteReader().read(f);
      assert.equal(r?.ok, true, enc);
      assert.deepEqual([r?.tables, r?.indexes], [want?.tables, want?.indexes], enc);
      assert.deepEqual([r?.tables, r?.indexes], [2, 2]);
    }
  });

  it('a read whose deadline passed stops and leaves nothing in flight', async () => {
    const f = path.join(dir, 'plain.db');
    assert.ok(sqlite3(f, 'create table a(x);').ok);
    const reader = new SqliteReader();
    const ac = new AbortController();
    ac.abort(new Error('deadline'));
    await assert.rejects(reader.read(f, ac.signal), { name: 'SqliteReadError', kind: 'aborted' });
    assert.equal(reader.readsInFlight, 0);
    const r = await reader.read(f);
    assert.equal(r?.ok, true, 'an abandoned read leaves no state behind');
  });

  it('an abort in the middle of a schema read stops it at the next page', async () => {
    const f = path.join(dir, 'wide.db');
    const tables = Array.from({ length: 300 }, (_, i) => `create table t${i}(a integer primary key, b text, c text);`).join(' ');
    assert.ok(sqlite3(f, `pragma page_size=1024; ${tables}`).ok);
    const bytes = readFileSync(f);
    const ac = new AbortController();
    let reads = 0;
    let armed = false;
    const store = {
      async read(pgno: number, buf: Buffer): Promise<number> {
        if (++reads === 3 && armed) ac.abort(new Error('deadline'));
        return bytes.copy(buf, 0, (pgno - 1) * buf.length, pgno * buf.length);
      },
    };
    const input = { head: bytes.subarray(0, 100), fileBytes: bytes.length };
    const whole = await readDatabase({ read: store.read }, input);
    assert.equal(whole.tables, 300);
    assert.ok(whole.pagesRead > 10, `the schema spans ${whole.pagesRead} pages`);
    reads = 0;
    armed = true;
    await assert.rejects(readDatabase(store, input, { maxPages: 1e6, maxBytes: 1e9, signal: ac.signal }), (e: unknown) => e instanceof SqliteReadError && e.kind === 'aborted');
    assert.equal(reads, 3, 'no page read after the abort');
  });
});

describe('a database read slower than its limit', () => {
  let dir: string;
  before(() => {
    dir = makeTmpDir('hostaudit-sqlslow-');
  });
  after(() => removeTmpDir(dir));

  it('costs that database its ok, never the collector; nothing keeps reading', async () => {
    // 8192 page reads cannot finish in 1 ms: the read is given up at its limit, whatever the load.
    const slow = path.join(dir, 'slow.db');
    writeFileSync(slow, sharedLongChain(20480, 8));
    const small = path.join(dir, 'small.db');
    assert.ok(sqlite3(small, 'create table a(x);').ok);
    const lines: string[] = [];
    const c = new SqliteCollector([path.join(dir, '*.db')], 60_000, new Logger('info', 'logfmt', (l) => lines.push(l)), 1);
    const fams = await c.collect({ signal: new AbortController().signal, log: new Logger('error') });
    const ok = fams.find((f) => f.name === 'hostaudit_sqlite_ok');
    assert.equal(ok?.samples.find((s) => s.labels.path === slow)?.value, 0);
    assert.ok(ok?.samples.some((s) => s.labels.path === small), 'the other database keeps its series');
    assert.ok(lines.some((l) => l.includes(slow) && l.includes('read abandoned after 1 ms')), lines.join(''));
    const held = readdirSync('/proc/self/fd').flatMap((fd) => {
      try {
        return [readlinkSync(`/proc/self/fd/${fd}`)];
      } catch {
        return [];
      }
    });
    assert.deepEqual(held.filter((p) => p.startsWith(dir)), [], 'no read left holding a database open');
  });
});

describe('a WAL read abandoned by its deadline', () => {
  let dir: string;
  before(() => {
    dir = makeTmpDir('hostaudit-sqlwal-');
  });
  after(() => removeTmpDir(dir));

  it('keeps what it read up to the last commit and resumes there to the same answer', async () => {
    const script = `import sqlite3, shutil, sys
d = sys.argv[1]
db = sqlite3.connect(d + '/w.db', isolation_level=None)
db.execute('pragma page_size=1024'); db.execute('pragma journal_mode=wal'); db.execute('pragma wal_autocheckpoint=0')
db.execute('create table a(x)')
for i in range(40):
    db.execute("insert into a with recursive c(i) as (select 1 union all select i + 1 from c where i < 100) select hex(randomblob(400)) from c")
shutil.copy(d + '/w.db-wal', d + '/copy-wal')`;
    const r = spawnSync(PYTHON, ['-c', script, dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const wal = readFileSync(path.join(dir, 'copy-wal'));
    assert.ok(wal.length > 3 << 20, `the WAL spans several read chunks (${wal.length} bytes)`);
    const ac = new AbortController();
    let chunks = 0;
    const readAt = async (buf: Buffer, length: number, position: number): Promise<number> => {
      if (position > 0 && ++chunks === 2) ac.abort(new Error('deadline'));
      return wal.copy(buf, 0, position, position + length);
    };
    let kept: WalState | undefined;
    await assert.rejects(
      readWal(readAt, wal.length, undefined, ac.signal, (st) => (kept = st)),
      (e: unknown) => e instanceof SqliteReadError && e.kind === 'aborted',
    );
    assert.ok(kept && kept.end > 32 && kept.end < wal.length && kept.dbPages !== undefined, 'progress up to a commit is kept');
    const plain = async (buf: Buffer, length: number, position: number): Promise<number> => wal.copy(buf, 0, position, position + length);
    const resumed = await readWal(plain, wal.length, kept);
    const fresh = await readWal(plain, wal.length, undefined);
    assert.equal(resumed?.end, fresh?.end);
    assert.equal(resumed?.dbPages, fresh?.dbPages);
    assert.deepEqual([...(resumed?.pages ?? [])].sort(), [...(fresh?.pages ?? [])].sort());
  });
});

describe('databases paths: symlinks and names that are not UTF-8', () => {
  let dir: string;
  before(() => {
    dir = makeTmpDir('hostaudit-sqlnames-');
  });
  after(() => removeTmpDir(dir));

  it('the glob finds a name that is not UTF-8 and shows it escaped', async () => {
    const data = path.join(dir, 'data');
    mkdirSync(data);
    const made = path.join(data, 'made.db');
    assert.ok(sqlite3(made, 'create table a(x);').ok);
    const raw = Buffer.concat([Buffer.from(data + '/f'), Buffer.from([0xff, 0xfe]), Buffer.from('ills.db')]);
    renameSync(made, raw);
    const found = await expandGlobs([path.join(data, '*.db')]);
    assert.deepEqual(found, [`${data}/f\\xff\\xfeills.db`]);
  });

  it('a literal path that is a symlink: read through to its target, said once in the log', async () => {
    const target = path.join(dir, 'real.db');
    assert.ok(sqlite3(target, 'create table a(x); create table b(y); create index b_y on b(y);').ok);
    const link = path.join(dir, 'link.db');
    symlinkSync(target, link);
    const dangling = path.join(dir, 'dangling.db');
    symlinkSync(path.join(dir, 'nowhere.db'), dangling);
    const lines: string[] = [];
    const c = new SqliteCollector([link, dangling], 60_000, new Logger('info', 'logfmt', (l) => lines.push(l)));
    const fams = await c.collect({ signal: new AbortController().signal, log: new Logger('error') });
    await c.refresh(); // the globs expanded again: the same notes are not said again
    await c.collect({ signal: new AbortController().signal, log: new Logger('error') });
    const ok = fams.find((f) => f.name === 'hostaudit_sqlite_ok');
    const tables = fams.find((f) => f.name === 'hostaudit_sqlite_tables');
    assert.deepEqual(
      ok?.samples.map((s) => [s.labels.path, s.value]),
      [[link, 1]],
    );
    assert.equal(tables?.samples[0]?.value, 2);
    assert.equal(lines.filter((l) => l.includes(link) && /symlink/.test(l)).length, 1, lines.join(''));
    assert.equal(lines.filter((l) => l.includes(dangling) && /symlink/.test(l)).length, 1, lines.join(''));
    assert.equal(readFileSync(target).subarray(0, 15).toString(), 'SQLite format 3');
  });
});
