// `npm run bench -- sqlite`: what the sqlite collector costs per scrape with the audit's eleven
// databases (sizes from the hand audit and bench/lib/host.ts), one of them in WAL mode with a WAL of
// WAL_MB megabytes that is never checkpointed and keeps growing during the run. Prints the
// first scrape (every WAL read from its start), steady-state scrapes (only new frames) and
// the glob expansion, beside `sqlite3 -readonly` asking PRAGMA page_count of each database.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as SqliteCollectorModule from '../src/collectors/sqlite.js';
import type * as LogModule from '../src/log.js';
import { DATABASES } from './lib/host.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { SqliteCollector } = (await import(path.join(ROOT, 'dist', 'collectors', 'sqlite.js'))) as typeof SqliteCollectorModule;
const { silentLogger } = (await import(path.join(ROOT, 'dist', 'log.js'))) as typeof LogModule;
const WAL_MB = Number(process.env.WAL_MB ?? 16);


const MAKE = String.raw`
import sqlite3, sys
path, size = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(path, isolation_level=None)
db.execute('create table rows(id integer primary key, ts real, v text)')
db.execute('create index rows_ts on rows(ts)')
n = max(1, size // 700)
db.execute('insert into rows(ts, v) with recursive c(i) as (select 1 union all select i + 1 from c where i < ?) select i, hex(randomblob(300)) from c', (n,))
`;

// Keeps the WAL database open, autocheckpoint off, and appends until the WAL reaches WAL_MB,
// then keeps committing a small transaction every 20 ms.
const WRITER = String.raw`
import sqlite3, sys, time, os
path, wal_mb = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(path, isolation_level=None)
db.execute('pragma journal_mode=wal'); db.execute('pragma wal_autocheckpoint=0')
while True:
    db.execute('insert into rows(ts, v) with recursive c(i) as (select 1 union all select i + 1 from c where i < 200) select i, hex(randomblob(300)) from c')
    if os.path.getsize(path + '-wal') >= wal_mb * 1048576:
        break
print('ready', flush=True)
while True:
    db.execute('insert into rows(ts, v) values (?, ?)', (time.time(), 'x' * 200))
    time.sleep(0.02)
`;

const base = mkdtempSync(path.join(ROOT, '.bench', 'sqlite-'));
try {
  const data = path.join(base, 'data');
  mkdirSync(path.join(data, 'prod'), { recursive: true });
  writeFileSync(path.join(base, 'make.py'), MAKE);
  writeFileSync(path.join(base, 'writer.py'), WRITER);
  for (const [name, size] of DATABASES) {
    const r = spawnSync('python3', [path.join(base, 'make.py'), path.join(data, name), String(size)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
  }
  const writer = spawn('python3', [path.join(base, 'writer.py'), path.join(data, 'btc_price_history.db'), String(WAL_MB)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    writer.stdout.once('data', () => resolve());
    writer.once('exit', (code) => reject(new Error(`WAL writer exited with ${code}`)));
  });
  try {
    const c = new SqliteCollector([path.join(data, '**', '*.db')], 3_600_000, silentLogger);
    const ctx = { signal: new AbortController().signal, log: silentLogger };
    let t0 = performance.now();
    await c.refresh();
    const globMs = performance.now() - t0;
    t0 = performance.now();
    const first = await c.collect(ctx);
    const firstMs = performance.now() - t0;
    const steady: number[] = [];
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100)); // the writer adds a few frames meanwhile
      t0 = performance.now();
      await c.collect(ctx);
      steady.push(performance.now() - t0);
    }
    steady.sort((a, b) => a - b);
    t0 = performance.now();
    for (const [name] of DATABASES) spawnSync('sqlite3', ['-readonly', path.join(data, name), 'pragma page_count']);
    const cliMs = performance.now() - t0;
    const dbs = first.find((f) => f.name === 'hostaudit_sqlite_ok')?.samples.length ?? 0;
    const wal = first.find((f) => f.name === 'hostaudit_sqlite_bytes')?.samples.find((s) => s.labels.file === 'wal')?.value ?? 0;
    console.log(`${dbs} databases, one WAL of ${(wal / 1048576).toFixed(1)} MB being written\n`);
    console.log('| step | time |');
    console.log('|---|---|');
    console.log(`| glob expansion (background, every scan_interval) | ${globMs.toFixed(1)} ms |`);
    console.log(`| first scrape (every WAL read from its start) | ${firstMs.toFixed(1)} ms |`);
    console.log(`| later scrapes, p50 / p99 of 50 (new WAL frames only) | ${(steady[25] as number).toFixed(2)} ms / ${(steady[49] as number).toFixed(2)} ms |`);
    console.log(`| for comparison: sqlite3 -readonly "pragma page_count", 11 processes | ${cliMs.toFixed(0)} ms |`);
  } finally {
    writer.kill();
    await new Promise((r) => writer.once('exit', r));
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}
