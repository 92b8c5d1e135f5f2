// Database freshness against real SQLite databases: one in rollback-journal mode (its main
// file's mtime), one written through WAL with checkpoints off (the main file stays old, the
// freshness follows the WAL); expect_write_within only where the object form sets it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { lstatSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Exporter, runCli } from './helpers/exporter.js';
import type { AuditReport } from '../src/report/model.js';
import { find, value } from './helpers/metrics.js';
import { PYTHON, sleep } from './helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

const mtime = (f: string): number => lstatSync(f).mtimeMs / 1000;

// Keeps the database open in WAL mode with checkpoints off; writes one row per line on stdin.
const WAL_WRITER = String.raw`
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute('pragma journal_mode=wal')
db.execute('pragma wal_autocheckpoint=0')
db.execute('create table if not exists t(x)')
print('ready', flush=True)
for line in sys.stdin:
    db.execute('insert into t values (?)', (line,))
    print('wrote', flush=True)
`;

describe('sqlite freshness with real databases', () => {
  let dir: string;
  let exp: Exporter;
  let writer: ReturnType<typeof spawn>;
  let plain: string;
  let wal: string;

  before(async () => {
    dir = makeTmpDir('hostaudit-dbfresh-');
    plain = path.join(dir, 'trades.db');
    wal = path.join(dir, 'prod', 'btc_price_history.db');
    spawnSync('mkdir', ['-p', path.dirname(wal)]);
    assert.equal(spawnSync('sqlite3', [plain, 'create table t(x); insert into t values (1);']).status, 0);
    writer = spawn(PYTHON, ['-c', WAL_WRITER, wal], { stdio: ['pipe', 'pipe', 'inherit'] });
    await once(writer.stdout as NodeJS.ReadableStream, 'data');
    exp = await Exporter.start({
      config: { databases: [path.join(dir, '*.db'), { glob: path.join(dir, '**', 'btc_*.db'), expect_write_within: '5m' }] },
    });
  });

  after(async () => {
    writer?.kill();
    await exp?.cleanup();
    removeTmpDir(dir);
  });

  it('follows the WAL of a database in WAL mode, and the main file of one that is not', async () => {
    await sleep(1100); // the next write lands in a later second than the main file's creation
    const wrote = once(writer.stdout as NodeJS.ReadableStream, 'data');
    writer.stdin?.write('row\n');
    await wrote;
    const walTime = mtime(`${wal}-wal`);
    assert.ok(walTime > mtime(wal), 'the commit went to the WAL only');
    const samples = await exp.scrape();
    assert.equal(value(samples, 'hostaudit_sqlite_last_write_timestamp_seconds', { path: wal }), walTime);
    assert.equal(value(samples, 'hostaudit_sqlite_last_write_timestamp_seconds', { path: plain }), mtime(plain));

    // A later write moves it.
    await sleep(50);
    const again = once(writer.stdout as NodeJS.ReadableStream, 'data');
    writer.stdin?.write('row\n');
    await again;
    assert.equal(value(await exp.scrape(), 'hostaudit_sqlite_last_write_timestamp_seconds', { path: wal }), mtime(`${wal}-wal`));
    assert.ok(mtime(`${wal}-wal`) >= walTime);
  });

  it('gives expect_write_within only for the databases whose entry sets it', async () => {
    const samples = await exp.scrape();
    assert.equal(value(samples, 'hostaudit_sqlite_expected_write_within_seconds', { database: 'btc_price_history', path: wal }), 300);
    assert.equal(find(samples, 'hostaudit_sqlite_expected_write_within_seconds').length, 1);
  });

  it("the audit report gives each database's age since its last write, its expectation, and the disk left", async () => {
    const cfg = path.join(exp.dir, 'hostaudit.yml');
    const before = Date.now() / 1000;
    const run = await runCli(['audit', `--config.file=${cfg}`, '--format=json', '--sample=1s']);
    const after = Date.now() / 1000;
    const r = JSON.parse(run.stdout) as AuditReport;
    const sf = r.silent_failures;
    assert.ok(sf, run.stderr);
    const btc = sf.databases.find((d) => d.path === wal);
    assert.equal(btc?.expected_within_seconds, 300);
    const written = mtime(`${wal}-wal`);
    assert.ok(btc && btc.last_write_age_seconds >= Math.floor(before - written) - 1 && btc.last_write_age_seconds <= Math.ceil(after - written) + 1);
    assert.equal(sf.databases.find((d) => d.path === plain)?.expected_within_seconds, null);
    const disk = spawnSync('df', ['-B1', '--output=target,size', dir], { encoding: 'utf8' }).stdout.trim().split('\n')[1]?.trim().split(/\s+/);
    const fs = sf.filesystems.find((f) => f.mountpoint === disk?.[0]);
    assert.equal(fs?.size_bytes, Number(disk?.[1]));
    assert.deepEqual(sf.deleted_open, []);
  });
});
