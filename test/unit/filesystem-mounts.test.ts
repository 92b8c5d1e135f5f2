// The filesystem collector keeps each target's mount between scrapes: against real files on
// two real filesystems (the disk under the temp dir, the tmpfs at /dev/shm), with the mount
// table read from a proc root of the test's own and the collector's clock in the test's hand.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FilesystemCollector, RESOLVE_MAX_AGE_MS } from '../../src/collectors/filesystem.js';
import type { CollectContext } from '../../src/collectors/collector.js';
import { Logger, silentLogger } from '../../src/log.js';
import { devName, parseMountinfo } from '../../src/sources/mountinfo.js';
import { ProcReader } from '../../src/sources/proc-tree.js';
import { ServiceLogFiles } from '../../src/sources/service-log-files.js';
import { makeTmpDir, removeTmpDir } from '../helpers/tmp.js';

const SHM = '/dev/shm';
const ctx = { signal: new AbortController().signal, log: silentLogger } as CollectContext;

describe('filesystem collector: mounts kept between scrapes', () => {
  let dir: string;
  let shmDir: string;
  let procRoot: string;
  let fullTable: string;
  let withoutShm: string;
  let diskMount: string;
  let clock = 1_000_000;
  const now = (): number => clock;

  before(() => {
    dir = makeTmpDir('hostaudit-fsmounts-');
    shmDir = path.join(SHM, path.basename(dir));
    mkdirSync(shmDir);
    procRoot = makeTmpDir('hostaudit-fsproc-');
    mkdirSync(path.join(procRoot, '1'));
    fullTable = readFileSync('/proc/1/mountinfo', 'latin1');
    const shmDev = devName(statSync(shmDir).dev);
    assert.notEqual(shmDev, devName(statSync(dir).dev), 'the temp dir and /dev/shm are two filesystems');
    withoutShm = fullTable
      .split('\n')
      .filter((l) => l.split(' ')[2] !== shmDev)
      .join('\n');
    diskMount = parseMountinfo(fullTable).filter((m) => m.dev === devName(statSync(dir).dev)).sort((a, b) => b.mountpoint.length - a.mountpoint.length).find((m) => dir.startsWith(m.mountpoint === '/' ? '/' : m.mountpoint + '/'))?.mountpoint as string;
    assert.ok(diskMount);
  });

  after(() => {
    if (dir) removeTmpDir(dir);
    if (shmDir) removeTmpDir(shmDir);
    if (procRoot) removeTmpDir(procRoot);
  });

  function collector(configured: string[], log = silentLogger): FilesystemCollector {
    writeFileSync(path.join(procRoot, '1', 'mountinfo'), fullTable);
    return new FilesystemCollector(configured, new ServiceLogFiles(), new ProcReader(procRoot), log, now);
  }

  async function mountpoints(c: FilesystemCollector): Promise<string[]> {
    const fams = await c.collect(ctx);
    const size = fams.find((f) => f.name === 'hostaudit_filesystem_size_bytes');
    return (size?.samples ?? []).map((s) => s.labels.mountpoint as string).sort();
  }

  it('follows a target that appears later at the next scrape, not only when it comes due', async () => {
    const target = path.join(dir, 'later', 'log');
    const c = collector([target]);
    assert.deepEqual(await mountpoints(c), [diskMount], 'its nearest existing ancestor, on the disk');
    mkdirSync(path.join(dir, 'later'));
    symlinkSync(shmDir, target);
    clock += 1000;
    assert.deepEqual(await mountpoints(c), [SHM]);
  });

  it('follows a change of the mount table at once', async () => {
    const c = collector([shmDir]);
    writeFileSync(path.join(procRoot, '1', 'mountinfo'), withoutShm);
    assert.deepEqual(await mountpoints(c), [], 'no mount of that device in the table: no series');
    writeFileSync(path.join(procRoot, '1', 'mountinfo'), fullTable);
    clock += 1000;
    assert.deepEqual(await mountpoints(c), [SHM]);
  });

  it('follows a symlink pointed elsewhere within RESOLVE_MAX_AGE_MS, and does not resolve it every scrape', async () => {
    const data = path.join(dir, 'data');
    mkdirSync(data);
    const link = path.join(dir, 'link');
    symlinkSync(data, link);
    const c = collector([link]);
    assert.deepEqual(await mountpoints(c), [diskMount]);
    rmSync(link);
    symlinkSync(shmDir, link);
    clock += 1000;
    assert.deepEqual(await mountpoints(c), [diskMount], 'the mount resolved a second ago still serves');
    clock += RESOLVE_MAX_AGE_MS;
    assert.deepEqual(await mountpoints(c), [SHM]);
  });

  it('falls back to the nearest existing ancestor at once when the resolved path is removed', async () => {
    const lines: string[] = [];
    const log = new Logger('warn', 'logfmt', (l) => lines.push(l));
    const sub = path.join(shmDir, 'sub');
    mkdirSync(sub);
    const c = collector([sub], log);
    assert.deepEqual(await mountpoints(c), [SHM]);
    rmSync(sub, { recursive: true });
    clock += 1000;
    assert.deepEqual(await mountpoints(c), [SHM], 'its parent, on the same tmpfs');
    assert.deepEqual(lines, [], 'no statfs failure said');
  });

  it('gives each filesystem once over many targets on it', async () => {
    const files = Array.from({ length: 20 }, (_, i) => path.join(i % 2 ? shmDir : dir, `f${i}.log`));
    for (const f of files) writeFileSync(f, '');
    const logs = new ServiceLogFiles();
    logs.update(files.map((f, i) => ({ group: `g${i}`, name: `g${i}`, stdoutLogfile: f, stderrLogfile: '' }) as never));
    writeFileSync(path.join(procRoot, '1', 'mountinfo'), fullTable);
    const c = new FilesystemCollector([], logs, new ProcReader(procRoot), silentLogger, now);
    for (let i = 0; i < 3; i++) {
      clock += 1000;
      assert.deepEqual(await mountpoints(c), [diskMount, SHM].sort());
    }
  });
});
