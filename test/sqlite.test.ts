// The sqlite collector against real databases: one in WAL mode kept open and written by a
// separate process during the whole test (its main-file header stale, as autocheckpoint is
// off), one with deleted rows (freelist > 0) and indexes, nested ones matched by `**`, a file
// that is not a database. Figures are compared with PRAGMA page_count / freelist_count /
// page_size and sqlite_master; afterwards the writer must have kept writing (never busy),
// PRAGMA quick_check must be ok and no file may have appeared beside any database.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { Exporter } from './helpers/exporter.js';
import { find, value, type ParsedSample } from './helpers/metrics.js';
import { PYTHON, sleep } from './helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

const SQLITE3 = '/usr/bin/sqlite3';

function sql(db: string, statement: string): string {
  const r = spawnSync(SQLITE3, [db, statement], { encoding: 'utf8' });
  assert.equal(r.status, 0, `sqlite3 ${db}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A writer in its own process: WAL mode, autocheckpoint off, writes every few ms until told. */
const WRITER = String.raw`
import sqlite3, sys, threading, time, json
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=0, check_same_thread=False)
db.execute('pragma journal_mode=wal')
db.execute('pragma wal_autocheckpoint=0')
db.execute('create table if not exists prices(id integer primary key, ts real, price real, note text)')
db.execute('create index if not exists prices_ts on prices(ts)')
state = {'paused': False, 'rows': 0, 'busy': 0, 'errors': []}
lock = threading.Lock()
def loop():
    while True:
        with lock:
            if not state['paused']:
                try:
                    db.execute('begin immediate')
                    db.executemany('insert into prices(ts, price, note) values (?, ?, ?)', [(time.time(), 42000.5 + i, 'x' * 300) for i in range(20)])
                    db.execute('delete from prices where id % 7 = 0 and id > (select max(id) - 200 from prices)')
                    db.execute('commit')
                    state['rows'] += 20
                except sqlite3.OperationalError as e:
                    state['busy'] += 1
                    state['errors'].append(str(e))
                    try: db.execute('rollback')
                    except Exception: pass
        time.sleep(0.005)
threading.Thread(target=loop, daemon=True).start()
def stats():
    one = lambda q: db.execute(q).fetchone()[0]
    return {'rows': state['rows'], 'busy': state['busy'], 'errors': state['errors'][:3],
            'page_count': one('pragma page_count'), 'freelist_count': one('pragma freelist_count'),
            'page_size': one('pragma page_size'),
            'tables': one("select count(*) from sqlite_master where type='table' and name not like 'sqlite_%'"),
            'indexes': one("select count(*) from sqlite_master where type='index' and name not like 'sqlite_%'"),
            'quick_check': one('pragma quick_check')}
print(json.dumps({'ready': True}), flush=True)
for line in sys.stdin:
    cmd = line.split()
    with lock:
        if cmd[0] == 'pause': state['paused'] = True
        elif cmd[0] == 'resume': state['paused'] = False
        elif cmd[0] == 'mktable':
            db.execute('create table %s(a integer primary key, b text unique)' % cmd[1])
            db.execute('create index %s_b on %s(b)' % (cmd[1], cmd[1]))
        print(json.dumps(stats()), flush=True)
`;

interface WriterStats {
  rows: number;
  busy: number;
  errors: string[];
  page_count: number;
  freelist_count: number;
  page_size: number;
  tables: number;
  indexes: number;
  quick_check: string;
}

class Writer {
  private lines: AsyncIterator<string>;
  constructor(readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }
  static async start(script: string, db: string): Promise<Writer> {
    const w = new Writer(spawn(PYTHON, [script, db], { stdio: ['pipe', 'pipe', 'pipe'] }));
    let err = '';
    w.child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const first = await w.lines.next();
    assert.ok(!first.done, `writer did not start: ${err}`);
    return w;
  }
  async send(cmd: string): Promise<WriterStats> {
    this.child.stdin.write(cmd + '\n');
    const r = await this.lines.next();
    assert.ok(!r.done, 'writer exited');
    return JSON.parse(r.value as string) as WriterStats;
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.stdin.end();
    await new Promise((r) => this.child.once('exit', r));
  }
}

/** Every file under dir (relative names), for the "nothing appeared" check. */
function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

async function until(exp: Exporter, pred: (m: ParsedSample[]) => boolean, what: string, timeoutMs = 15_000): Promise<ParsedSample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = await exp.scrape();
    if (pred(m)) return m;
    if (Date.now() > deadline) throw new Error(`${what} never held:\n${exp.output.slice(-1500)}`);
    await sleep(100);
  }
}

describe('sqlite collector with real databases', () => {
  let dir: string;
  let data: string;
  let writer: Writer;
  let exp: Exporter;
  let files0: string[];
  let rows0: number;
  const db = (rel: string): string => path.join(data, rel);

  before(async () => {
    dir = makeTmpDir('hostaudit-sqlite-');
    data = path.join(dir, 'data');
    mkdirSync(path.join(data, 'prod'), { recursive: true });
    mkdirSync(path.join(data, 'archive', '2025', 'q3'), { recursive: true });
    // Rollback-journal database with indexes, a UNIQUE autoindex and deleted rows.
    sql(
      db('trades.db'),
      `create table trades(id integer primary key, sym text unique, qty int, note text);
       create index trades_qty on trades(qty); create index trades_sym_qty on trades(sym, qty);
       create table fills(id integer primary key autoincrement, t int);
       create view big_trades as select * from trades where qty > 10;
       insert into trades(sym, qty, note) select 'S' || value, value % 50, hex(randomblob(300)) from generate_series(1, 3000);
       delete from trades where id % 4 <> 0;`,
    );
    sql(db('prod/fills.db'), 'create table fills(a, b); insert into fills values (1, 2);');
    sql(db('prod/orders.db'), 'pragma page_size=8192; create table orders(a); create index o_a on orders(a); insert into orders values (1);');
    sql(db('archive/2025/q3/old_prices.db'), 'create table p(a);');
    writeFileSync(db('notes.db'), 'this is not a database, it only has the extension\n');
    writeFileSync(db('.hidden.db'), 'hidden');
    symlinkSync(db('trades.db'), db('prod/link_to_trades.db'));
    const script = path.join(dir, 'writer.py');
    writeFileSync(script, WRITER);
    writer = await Writer.start(script, db('btc_price_history.db'));
    rows0 = (await writer.send('stats')).rows;
    files0 = listing(data);
    exp = await Exporter.start({ config: { databases: [path.join(data, '**', '*.db')], scan_interval: '1s' } });
  });

  after(async () => {
    await exp?.cleanup();
    await writer?.stop();
    if (dir) removeTmpDir(dir);
  });

  it('finds every database under ** (not the symlink, the hidden file or the -wal/-shm companions)', async () => {
    const m = await exp.scrape();
    const paths = find(m, 'hostaudit_sqlite_ok').map((s) => s.labels.path).sort();
    assert.deepEqual(paths, [
      db('archive/2025/q3/old_prices.db'),
      db('btc_price_history.db'),
      db('notes.db'),
      db('prod/fills.db'),
      db('prod/orders.db'),
      db('trades.db'),
    ]);
    assert.equal(value(m, 'hostaudit_sqlite_ok', { database: 'btc_price_history' }), 1);
    assert.equal(value(m, 'hostaudit_sqlite_ok', { database: 'fills', path: db('prod/fills.db') }), 1);
  });

  it('a rollback-journal database: header figures equal the PRAGMAs, schema equals sqlite_master', async () => {
    const m = await exp.scrape();
    const l = { database: 'trades', path: db('trades.db') };
    const [pageCount, freelist, pageSize] = sql(db('trades.db'), 'pragma page_count; pragma freelist_count; pragma page_size;').split('\n').map(Number);
    assert.ok((freelist as number) > 0, 'the fixture has free pages');
    assert.equal(value(m, 'hostaudit_sqlite_pages', l), pageCount);
    assert.equal(value(m, 'hostaudit_sqlite_freelist_pages', l), freelist);
    assert.equal(value(m, 'hostaudit_sqlite_page_size_bytes', l), pageSize);
    const tables = Number(sql(db('trades.db'), "select count(*) from sqlite_master where type='table' and name not like 'sqlite_%'"));
    const indexes = Number(sql(db('trades.db'), "select count(*) from sqlite_master where type='index' and name not like 'sqlite_%'"));
    assert.deepEqual([tables, indexes], [2, 2]);
    assert.equal(value(m, 'hostaudit_sqlite_tables', l), tables);
    assert.equal(value(m, 'hostaudit_sqlite_indexes', l), indexes);
    assert.equal(value(m, 'hostaudit_sqlite_bytes', { ...l, file: 'main' }), statSync(db('trades.db')).size);
    assert.equal(find(m, 'hostaudit_sqlite_bytes', { ...l, file: 'wal' }).length, 0, 'no wal series without a -wal file');
    assert.equal(find(m, 'hostaudit_sqlite_bytes', { ...l, file: 'shm' }).length, 0);
    const o = { database: 'orders', path: db('prod/orders.db') };
    assert.equal(value(m, 'hostaudit_sqlite_page_size_bytes', o), 8192);
    assert.equal(value(m, 'hostaudit_sqlite_indexes', o), 1);
  });

  it('a WAL database being written: figures read through the WAL equal the PRAGMAs', async () => {
    // A table created now lives only in the WAL (autocheckpoint is off).
    const s = await writer.send('mktable created_during_test');
    const l = { database: 'btc_price_history', path: db('btc_price_history.db') };
    // The main file's header is stale: its page count is below what the WAL says.
    const hdr = readFileSync(db('btc_price_history.db')).subarray(0, 100);
    assert.ok(hdr.readUInt32BE(28) < s.page_count, `main header ${hdr.readUInt32BE(28)} vs page_count ${s.page_count}`);
    const paused = await writer.send('pause');
    const m = await until(exp, (mm) => value(mm, 'hostaudit_sqlite_pages', l) === paused.page_count, 'pages == PRAGMA page_count');
    assert.equal(value(m, 'hostaudit_sqlite_freelist_pages', l), paused.freelist_count);
    assert.equal(value(m, 'hostaudit_sqlite_page_size_bytes', l), paused.page_size);
    assert.equal(value(m, 'hostaudit_sqlite_tables', l), paused.tables);
    assert.equal(value(m, 'hostaudit_sqlite_indexes', l), paused.indexes);
    assert.deepEqual([paused.tables, paused.indexes], [2, 2]); // prices_ts and created_during_test_b
    assert.equal(value(m, 'hostaudit_sqlite_bytes', { ...l, file: 'wal' }), statSync(db('btc_price_history.db-wal')).size);
    assert.equal(value(m, 'hostaudit_sqlite_bytes', { ...l, file: 'shm' }), statSync(db('btc_price_history.db-shm')).size);
    assert.equal(value(m, 'hostaudit_sqlite_bytes', { ...l, file: 'main' }), statSync(db('btc_price_history.db')).size);
    await writer.send('resume');
    // And it follows the writer: more pages after more writes.
    await until(exp, (mm) => (value(mm, 'hostaudit_sqlite_pages', l) ?? 0) > paused.page_count, 'pages growing with the writer');
  });

  it('a file that is not a database: ok 0, its size, no header figures', async () => {
    const m = await exp.scrape();
    const l = { database: 'notes', path: db('notes.db') };
    assert.equal(value(m, 'hostaudit_sqlite_ok', l), 0);
    assert.equal(value(m, 'hostaudit_sqlite_bytes', { ...l, file: 'main' }), statSync(db('notes.db')).size);
    assert.equal(value(m, 'hostaudit_sqlite_pages', l), undefined);
    assert.equal(value(m, 'hostaudit_sqlite_tables', l), undefined);
  });

  it('globs are re-evaluated: a new database appears, a deleted one disappears', async () => {
    const created = db('prod/positions.db');
    sql(created, 'create table pos(a);');
    await until(exp, (m) => value(m, 'hostaudit_sqlite_ok', { path: created }) === 1, 'new database listed');
    rmSync(created);
    await until(exp, (m) => find(m, 'hostaudit_sqlite_ok', { path: created }).length === 0, 'deleted database gone');
    await until(exp, (m) => find(m, 'hostaudit_sqlite_bytes', { path: created }).length === 0, 'deleted database bytes gone');
  });

  it('after being watched: the writer never waited, quick_check ok, no new file beside any database', async () => {
    await sleep(1500); // a few more scrapes and glob rounds while the writer writes
    for (let i = 0; i < 10; i++) await exp.scrape();
    const s = await writer.send('stats');
    assert.equal(s.busy, 0, `writer was blocked: ${s.errors.join('; ')}`);
    assert.ok(s.rows > rows0 + 200, `writer kept writing (${rows0} -> ${s.rows})`);
    assert.equal(s.quick_check, 'ok');
    for (const f of ['trades.db', 'prod/fills.db', 'prod/orders.db', 'archive/2025/q3/old_prices.db']) {
      assert.equal(sql(db(f), 'pragma quick_check'), 'ok', f);
    }
    assert.deepEqual(listing(data), files0);
  });
});
