// The SQLite file readers on real files: the 100-byte header, the WAL (valid frames, the last
// commit, a torn last transaction, incremental reading), sqlite_master through the WAL; and
// the `databases` glob matcher.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { globMatches, segmentRegExp } from '../../src/sources/sqlite-glob.js';
import { SqliteReader } from '../../src/sources/sqlite-file.js';
import { parseDbHeader, readWal as readWalAt, varint, walChecksum, type WalState } from '../../src/sources/sqlite-format.js';
import { PYTHON } from '../helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from '../helpers/tmp.js';

const readWal = (fh: FileHandle, size: number, prev: WalState | undefined): Promise<WalState | undefined> =>
  readWalAt(async (buf, length, position) => (await fh.read(buf, 0, length, position)).bytesRead, size, prev);

describe('parseDbHeader', () => {
  const header = (): Buffer => {
    const h = Buffer.alloc(100);
    h.write('SQLite format 3\0', 0, 'latin1');
    h.writeUInt16BE(4096, 16);
    h.writeUInt32BE(7, 24); // change counter
    h.writeUInt32BE(12, 28); // pages
    h.writeUInt32BE(3, 36); // freelist
    h.writeUInt32BE(7, 92); // version-valid-for
    return h;
  };
  it('reads page size, pages and freelist', () => {
    assert.deepEqual(parseDbHeader(header()), {
      pageSize: 4096,
      reserved: 0,
      changeCounter: 7,
      headerPages: 12,
      freelistTrunk: 0,
      freelistPages: 3,
      schemaFormat: 0,
      encoding: 'utf8',
      readVersion: 0,
    });
  });
  it('page size 1 means 65536; a stale size field is not trusted', () => {
    const h = header();
    h.writeUInt16BE(1, 16);
    h.writeUInt32BE(6, 92);
    const p = parseDbHeader(h);
    assert.equal(p?.pageSize, 65536);
    assert.equal(p?.headerPages, undefined);
  });
  it('rejects other files, short files and impossible page sizes', () => {
    assert.equal(parseDbHeader(Buffer.from('SQLite format 2\0'.padEnd(100, 'x'))), undefined);
    assert.equal(parseDbHeader(header().subarray(0, 99)), undefined);
    const h = header();
    h.writeUInt16BE(1000, 16);
    assert.equal(parseDbHeader(h), undefined);
  });
});

describe('varint', () => {
  it('decodes 1-, 2- and 9-byte forms', () => {
    assert.deepEqual(varint(Buffer.from([0x05]), 0), [5, 1]);
    assert.deepEqual(varint(Buffer.from([0x81, 0x00]), 0), [128, 2]);
    assert.deepEqual(varint(Buffer.from([0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), 0), [2 ** 57 + 1, 9]);
    assert.throws(() => varint(Buffer.from([0x81]), 0));
  });
});

// Builds a WAL database with a connection held open and copies its files at moments chosen
// by the script (a copy of an open WAL database is what a reader sees on disk).
const SNAPSHOTS = String.raw`
import sqlite3, shutil, sys, json
d = sys.argv[1]
db = sqlite3.connect(d + '/live.db', isolation_level=None)
db.execute('pragma journal_mode=wal'); db.execute('pragma wal_autocheckpoint=0')
db.execute('create table a(x integer primary key, y text)')
db.execute('insert into a(y) with recursive c(i) as (select 1 union all select i + 1 from c where i < 200) select hex(randomblob(500)) from c')
out = {}
def snap(name):
    one = lambda q: db.execute(q).fetchone()[0]
    shutil.copy(d + '/live.db', d + '/' + name + '.db'); shutil.copy(d + '/live.db-wal', d + '/' + name + '.db-wal')
    out[name] = {'pages': one('pragma page_count'), 'free': one('pragma freelist_count'),
                 'tables': one("select count(*) from sqlite_master where type='table'"),
                 'indexes': one("select count(*) from sqlite_master where type='index' and name not like 'sqlite_%'")}
snap('one')
db.execute('begin')
db.execute('create table b(z text unique)')
db.execute('create index b_z on b(z)')
for i in range(60): db.execute('create table t%d(a, b, c)' % i)  # a schema spanning several pages
db.execute('delete from a where x > 60')
db.execute('commit')
snap('two')
print(json.dumps(out))
`;

describe('WAL and schema on real files', () => {
  let dir: string;
  let figures: Record<'one' | 'two', { pages: number; free: number; tables: number; indexes: number }>;
  before(() => {
    dir = makeTmpDir('hostaudit-walunit-');
    writeFileSync(path.join(dir, 'snap.py'), SNAPSHOTS);
    const r = spawnSync(PYTHON, [path.join(dir, 'snap.py'), dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    figures = JSON.parse(r.stdout) as typeof figures;
  });
  after(() => removeTmpDir(dir));

  it('serves a quiet database again without reading it, and reads it after any write', async () => {
    const db = path.join(dir, 'quiet.db');
    const sql = (q: string): void => {
      const r = spawnSync('sqlite3', [db, q], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    };
    sql('create table a(x); insert into a values (1);');
    const r = new SqliteReader();
    // Just written: not quiet yet, so the next read reads the file again.
    const fresh = await r.read(db);
    assert.notEqual(await r.read(db), fresh);
    await new Promise((res) => setTimeout(res, 150));
    const quiet = await r.read(db);
    assert.equal(await r.read(db), quiet, 'unchanged and quiet: the same reading');
    assert.equal(quiet?.tables, 1);
    sql('create table b(y); create index b_y on b(y);');
    const after = await r.read(db);
    assert.notEqual(after, quiet);
    assert.equal(after?.tables, 2);
    assert.equal(after?.indexes, 1);
    // Replaced by another file of the same size: another inode, read again.
    await new Promise((res) => setTimeout(res, 150));
    const before = await r.read(db);
    copyFileSync(db, `${db}.copy`);
    spawnSync('mv', [`${db}.copy`, db]);
    assert.notEqual(await r.read(db), before);
  });

  it('the WAL header checksum matches what SQLite wrote', () => {
    const wal = readFileSync(path.join(dir, 'two.db-wal'));
    const bigEndian = wal.readUInt32BE(0) === 0x377f0683;
    assert.deepEqual(walChecksum(wal.subarray(0, 24), bigEndian, 0, 0), [wal.readUInt32BE(24), wal.readUInt32BE(28)]);
  });

  it('reads page count, freelist and schema through the WAL (the main file is stale)', async () => {
    const r = new SqliteReader();
    const two = await r.read(path.join(dir, 'two.db'));
    assert.ok(figures.two.pages > figures.one.pages && figures.two.free > 0 && figures.two.tables > 60);
    assert.equal(two?.ok, true);
    assert.equal(two?.pages, figures.two.pages);
    assert.equal(two?.freelistPages, figures.two.free);
    assert.equal(two?.tables, figures.two.tables);
    assert.equal(two?.indexes, figures.two.indexes);
    const main = parseDbHeader(readFileSync(path.join(dir, 'two.db')).subarray(0, 100));
    assert.notEqual(main?.headerPages, figures.two.pages, 'the main header alone would be wrong');
  });

  it('a torn last transaction (bad checksum) is ignored: the previous commit stands', async () => {
    const torn = path.join(dir, 'torn.db');
    copyFileSync(path.join(dir, 'two.db'), torn);
    const wal = readFileSync(path.join(dir, 'two.db-wal'));
    wal[wal.length - 10] = (wal[wal.length - 10] as number) ^ 0xff; // inside the commit frame's page
    writeFileSync(`${torn}-wal`, wal);
    const r = await new SqliteReader().read(torn);
    assert.equal(r?.pages, figures.one.pages);
    assert.equal(r?.tables, figures.one.tables);
    assert.equal(r?.indexes, figures.one.indexes);
  });

  it('incremental reading from an earlier state gives the same answer as a fresh read', async () => {
    const walOne = path.join(dir, 'one.db-wal');
    const walTwo = path.join(dir, 'two.db-wal');
    const fh1 = await open(walOne, 'r');
    const s1 = await readWal(fh1, statSync(walOne).size, undefined);
    await fh1.close();
    assert.ok(s1);
    const [endOne, pagesOne] = [s1.end, s1.dbPages]; // s1 is advanced in place below
    const fh2 = await open(walTwo, 'r');
    const fresh = await readWal(fh2, statSync(walTwo).size, undefined);
    const resumed = await readWal(fh2, statSync(walTwo).size, s1);
    await fh2.close();
    assert.ok(fresh && resumed);
    assert.ok(endOne < fresh.end, 'the second snapshot has more frames');
    assert.equal(pagesOne, figures.one.pages);
    assert.equal(resumed.dbPages, fresh.dbPages);
    assert.equal(resumed.end, fresh.end);
    assert.deepEqual([...resumed.pages].sort(), [...fresh.pages].sort());
  });

  it('a WAL from another generation (salts differ) is read from its start', async () => {
    const walTwo = path.join(dir, 'two.db-wal');
    const fh = await open(walTwo, 'r');
    const fresh = await readWal(fh, statSync(walTwo).size, undefined);
    assert.ok(fresh);
    const bogus = { ...fresh, salt1: fresh.salt1 + 1, end: fresh.end, dbPages: 1, pages: new Map([[1, 0]]) };
    const again = await readWal(fh, statSync(walTwo).size, bogus);
    await fh.close();
    assert.equal(again?.dbPages, fresh.dbPages);
  });
});

describe('glob matching', () => {
  it('segments: * ? and classes, never across /', () => {
    assert.ok(segmentRegExp('*.db').test('trades.db'));
    assert.ok(!segmentRegExp('*.db').test('trades.db-wal'));
    assert.ok(segmentRegExp('f?lls.[dx]b').test('fills.db'));
    assert.ok(!segmentRegExp('[!f]*.db').test('fills.db'));
    assert.ok(segmentRegExp('a+b(1).db').test('a+b(1).db'));
  });
  it('** matches zero or more directories, not hidden ones', () => {
    assert.ok(globMatches('/srv/data/**/*.db', '/srv/data/trades.db'));
    assert.ok(globMatches('/srv/data/**/*.db', '/srv/data/prod/fills.db'));
    assert.ok(globMatches('/srv/data/**/*.db', '/srv/data/a/b/c/orders.db'));
    assert.ok(!globMatches('/srv/data/**/*.db', '/srv/other/x.db'));
    assert.ok(!globMatches('/srv/data/**/*.db', '/srv/data/.git/x.db'));
    assert.ok(!globMatches('/srv/data/*.db', '/srv/data/prod/fills.db'));
    assert.ok(globMatches('/srv/**/prod/*.db', '/srv/data/prod/fills.db'));
  });
});
