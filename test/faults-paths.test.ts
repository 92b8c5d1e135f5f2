// Faults of watched directories and databases, against the running exporter: a directory
// deleted, recreated and made unreadable; a database replaced by a non-database, deleted, and
// locked by a writer holding an exclusive transaction; SIGTERM during a scan of a large tree.
// The exporter runs as nobody when the test runs as root (root reads a mode-000 directory).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { exporterArgv } from './helpers/exporter.js';
import { find, parseMetrics, value, type ParsedSample } from './helpers/metrics.js';
import { PYTHON, sleep } from './helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';
import { unprivileged } from './helpers/unprivileged.js';

const dir = makeTmpDir('hostaudit-fault-paths-');
chmodSync(dir, 0o755);
after(() => removeTmpDir(dir));

/** The exporter without root's permission bypass (see helpers/unprivileged.ts), on an ephemeral port. */
class Running {
  output = '';
  url = '';
  constructor(readonly child: ChildProcess) {}

  static async start(config: unknown): Promise<Running> {
    const file = path.join(dir, `hostaudit-${Math.random().toString(36).slice(2)}.yml`);
    writeFileSync(file, stringify(config));
    chmodSync(file, 0o644);
    const [cmd, args] = unprivileged(process.execPath, exporterArgv(['--web.listen-address=127.0.0.1:0', '--log.level=debug', `--config.file=${file}`]));
    const child = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const r = new Running(child);
    child.stderr?.on('data', (d: Buffer) => (r.output += d.toString()));
    child.stdout?.on('data', (d: Buffer) => (r.output += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`exporter did not start:\n${r.output}`)), 20_000);
      child.stderr?.on('data', () => {
        const m = /msg=listening address=\S+?:(\d+)\b/.exec(r.output);
        if (m && !r.url) {
          clearTimeout(t);
          r.url = `http://127.0.0.1:${m[1]}`;
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`exporter exited with ${code}:\n${r.output}`)));
    });
    return r;
  }

  async scrape(): Promise<ParsedSample[]> {
    const res = await fetch(`${this.url}/metrics`);
    assert.equal(res.status, 200);
    return parseMetrics(await res.text());
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}

function du(p: string): number {
  const r = spawnSync('du', ['-sb', p], { encoding: 'utf8' });
  return Number(r.stdout.split('\t')[0]);
}

function makeTree(root: string, files: number): void {
  for (let i = 0; i < files; i++) {
    const d = path.join(root, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(d, { recursive: true });
    writeFileSync(path.join(d, `f${i}.log`), 'x'.repeat(100 + (i % 50)));
  }
}

function sqlite(file: string, sql: string): void {
  const r = spawnSync(PYTHON, ['-c', `import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit(); c.close()`, file, sql], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/** Scrapes until `pred` holds for a scrape (rescans every second here); returns that scrape. */
async function until(exp: Running, what: string, pred: (m: ParsedSample[]) => boolean, timeoutMs = 20_000): Promise<ParsedSample[]> {
  const deadline = Date.now() + timeoutMs;
  let last: ParsedSample[] = [];
  while (Date.now() < deadline) {
    last = await exp.scrape();
    if (pred(last)) return last;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last.filter((s) => /path_|sqlite_ok/.test(s.name)))}`);
}

const L = { name: 'logs' };

describe('a watched directory deleted, recreated, made unreadable', () => {
  const watched = path.join(dir, 'logs');
  let exp: Running;

  before(async () => {
    makeTree(watched, 300);
    exp = await Running.start({ paths: [{ name: 'logs', path: watched }], scan_interval: '1s' });
  });
  after(async () => exp?.stop());

  const rescanned = async (what: string, pred: (m: ParsedSample[]) => boolean): Promise<ParsedSample[]> => {
    const before = value(await exp.scrape(), 'hostaudit_path_last_scan_timestamp_seconds', L) ?? 0;
    return until(exp, what, (m) => (value(m, 'hostaudit_path_last_scan_timestamp_seconds', L) ?? 0) > before && pred(m));
  };

  it('measures it as du -sb does to begin with', async () => {
    const m = await until(exp, 'first scan', (s) => value(s, 'hostaudit_path_bytes', L) !== undefined);
    assert.equal(value(m, 'hostaudit_path_bytes', L), du(watched));
    assert.equal(value(m, 'hostaudit_path_files', L), 300);
    assert.equal(value(m, 'hostaudit_path_scan_errors', L), 0);
  });

  it('deleted: a scan error and no size, the scrape still served', async () => {
    rmSync(watched, { recursive: true });
    const m = await rescanned('a scan of the deleted path', (s) => value(s, 'hostaudit_path_scan_errors', L) === 1);
    assert.equal(value(m, 'hostaudit_path_bytes', L), undefined);
    assert.equal(value(m, 'hostaudit_path_files', L), undefined);
    assert.equal(value(m, 'hostaudit_collector_success', { collector: 'paths' }), 1);
  });

  it('recreated with other content: measured again, exactly', async () => {
    makeTree(watched, 150);
    const m = await rescanned('a scan of the recreated path', (s) => value(s, 'hostaudit_path_files', L) === 150);
    assert.equal(value(m, 'hostaudit_path_bytes', L), du(watched));
    assert.equal(value(m, 'hostaudit_path_scan_errors', L), 0);
  });

  it('made unreadable: a scan error, then measured again once readable', async () => {
    chmodSync(watched, 0o000);
    try {
      const m = await rescanned('a scan of the unreadable path', (s) => (value(s, 'hostaudit_path_scan_errors', L) ?? 0) >= 1);
      assert.equal(value(m, 'hostaudit_path_files', L) ?? 0, 0, 'nothing inside is counted');
    } finally {
      chmodSync(watched, 0o755);
    }
    const m = await rescanned('a scan once readable again', (s) => value(s, 'hostaudit_path_scan_errors', L) === 0);
    assert.equal(value(m, 'hostaudit_path_bytes', L), du(watched));
  });

  it('an unreadable subdirectory counts as one error, the rest is still measured', async () => {
    const sub = path.join(watched, 'd0');
    chmodSync(sub, 0o000);
    try {
      const m = await rescanned('a scan with an unreadable subdirectory', (s) => value(s, 'hostaudit_path_scan_errors', L) === 1);
      assert.equal(value(m, 'hostaudit_path_files', L), 50, 'the other 50 files of d1');
    } finally {
      chmodSync(sub, 0o755);
    }
  });
});

describe('a database replaced, deleted, locked by a writer', () => {
  const dbDir = path.join(dir, 'data');
  const db = (n: string): string => path.join(dbDir, `${n}.db`);
  let exp: Running;

  before(async () => {
    mkdirSync(dbDir);
    chmodSync(dbDir, 0o777); // the writer (this user) and the exporter (maybe nobody) share it
    for (const n of ['trades', 'fills', 'orders']) {
      sqlite(db(n), 'CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t(v); INSERT INTO t (v) VALUES (\'a\'), (\'b\');');
      chmodSync(db(n), 0o644);
    }
    exp = await Running.start({ databases: [path.join(dbDir, '*.db')], scan_interval: '1s' });
  });
  after(async () => exp?.stop());

  const ok = (m: ParsedSample[], n: string): number | undefined => value(m, 'hostaudit_sqlite_ok', { database: n });

  it('reads every database to begin with', async () => {
    const m = await until(exp, 'three databases', (s) => find(s, 'hostaudit_sqlite_ok').length === 3);
    for (const n of ['trades', 'fills', 'orders']) {
      assert.equal(ok(m, n), 1, n);
      assert.equal(value(m, 'hostaudit_sqlite_tables', { database: n }), 1);
      assert.equal(value(m, 'hostaudit_sqlite_indexes', { database: n }), 1);
    }
  });

  it('replaced by a non-database: ok 0 for it, the others unaffected', async () => {
    writeFileSync(db('trades'), 'this is not a database, it is a log line\n'.repeat(200));
    const m = await until(exp, 'trades ok 0', (s) => ok(s, 'trades') === 0);
    assert.equal(ok(m, 'fills'), 1);
    assert.equal(ok(m, 'orders'), 1);
    assert.equal(value(m, 'hostaudit_collector_success', { collector: 'sqlite' }), 1);
  });

  it('deleted: its series go, the others stay', async () => {
    rmSync(db('trades'));
    const m = await until(exp, 'trades gone', (s) => find(s, 'hostaudit_sqlite_ok', { database: 'trades' }).length === 0);
    assert.equal(find(m, 'hostaudit_sqlite_bytes', { database: 'trades' }).length, 0);
    assert.equal(ok(m, 'fills'), 1);
  });

  it('locked by a writer in an exclusive transaction: scrapes answer, nothing waits on the lock, the writer commits', async () => {
    const file = db('orders');
    const before = statSync(file);
    // The writer takes an EXCLUSIVE lock, writes, holds the lock for 3 s, then commits.
    const writer = spawn(
      PYTHON,
      [
        '-c',
        `import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute('BEGIN EXCLUSIVE')
c.executemany('INSERT INTO t (v) VALUES (?)', (('x' * 200,) for _ in range(2000)))
print('locked', flush=True)
time.sleep(3)
c.execute('COMMIT')
print('committed', flush=True)`,
        file,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    writer.stdout.on('data', (d: Buffer) => (out += d.toString()));
    writer.stderr.on('data', (d: Buffer) => (out += d.toString()));
    await until(exp, 'the writer to hold its lock', () => out.includes('locked'), 15_000);
    const t0 = Date.now();
    let scrapes = 0;
    while (!out.includes('committed') && Date.now() - t0 < 10_000) {
      const s0 = Date.now();
      const m = await exp.scrape();
      assert.ok(Date.now() - s0 < 8000 + 3000, 'a scrape never waits on the lock beyond its deadline');
      assert.equal(ok(m, 'fills'), 1);
      assert.equal(find(m, 'hostaudit_sqlite_ok', { database: 'orders' }).length, 1, 'orders still reported');
      scrapes++;
      await sleep(250);
    }
    const code = await new Promise<number | null>((r) => (writer.exitCode !== null ? r(writer.exitCode) : writer.once('exit', r)));
    assert.equal(code, 0, `the writer committed despite the exporter reading (never a lock): ${out}`);
    assert.ok(scrapes >= 3, `${scrapes} scrapes while the lock was held`);
    const m = await until(exp, 'orders read after the commit', (s) => ok(s, 'orders') === 1 && (value(s, 'hostaudit_sqlite_pages', { database: 'orders' }) ?? 0) * (value(s, 'hostaudit_sqlite_page_size_bytes', { database: 'orders' }) ?? 0) > before.size);
    assert.equal(value(m, 'hostaudit_sqlite_tables', { database: 'orders' }), 1);
  });
});

describe('SIGTERM during a scan', () => {
  it('exits 0 within 2 s while a large tree is being walked', async () => {
    const big = path.join(dir, 'big');
    makeTree(big, 40_000);
    const exp = await Running.start({ paths: [{ name: 'big', path: big }], scan_interval: '1s' });
    try {
      // Scans now run back to back (each takes longer than scan_interval or nearly): wait for one
      // to have finished, so the pool is warm, then stop in the middle of the next.
      await until(exp, 'a first scan', (s) => value(s, 'hostaudit_path_files', { name: 'big' }) === 40_000, 60_000);
      await sleep(300);
      const t0 = Date.now();
      const exited = new Promise<number | null>((r) => exp.child.once('exit', (code) => r(code)));
      exp.child.kill('SIGTERM');
      const code = await exited;
      const ms = Date.now() - t0;
      assert.equal(code, 0, exp.output.slice(-2000));
      assert.ok(ms < 2000, `exited after ${ms} ms`);
      assert.match(exp.output, /shutting down/);
    } finally {
      await exp.stop();
    }
  });
});
