// The filesystem collector against the machine's own filesystems: each filesystem holding a
// configured path, database or service log once, with the figures `df -B1` and python's
// os.statvfs give, labelled as mountinfo names the mount.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { devName, mountOf, parseMountinfo } from '../src/sources/mountinfo.js';
import { Exporter } from './helpers/exporter.js';
import { find, value, type ParsedSample } from './helpers/metrics.js';
import { PYTHON, programs, Supervisord } from './helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';
import { statSync, readFileSync } from 'node:fs';

interface Df {
  size: number;
  avail: number;
  itotal: number;
  iavail: number;
  target: string;
  source: string;
  fstype: string;
}

function df(p: string): Df {
  const r = spawnSync('df', ['-B1', '--output=size,avail,itotal,iavail,target,source,fstype', p], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const f = (r.stdout.trim().split('\n')[1] as string).trim().split(/\s+/);
  return { size: Number(f[0]), avail: Number(f[1]), itotal: Number(f[2]), iavail: Number(f[3]), target: f[4] as string, source: f[5] as string, fstype: f[6] as string };
}

function statvfs(p: string): { size: number; avail: number; files: number; ffree: number } {
  const code = 'import os, sys, json; s = os.statvfs(sys.argv[1]); print(json.dumps([s.f_frsize * s.f_blocks, s.f_frsize * s.f_bavail, s.f_files, s.f_ffree]))';
  const r = spawnSync(PYTHON, ['-c', code, p], { encoding: 'utf8' });
  const [size, avail, files, ffree] = JSON.parse(r.stdout) as number[];
  return { size: size as number, avail: avail as number, files: files as number, ffree: ffree as number };
}

const SHM = '/dev/shm';

describe('filesystem collector', () => {
  let dir: string;
  let shmDir: string;
  let sv: Supervisord;
  let exp: Exporter;

  before(async () => {
    assert.ok(existsSync(SHM), 'a tmpfs at /dev/shm, as on every Debian machine');
    dir = makeTmpDir('hostaudit-fs-');
    shmDir = path.join(SHM, path.basename(dir));
    mkdirSync(shmDir);
    // The tmpfs holds only this service's log: it is listed for the log alone.
    sv = await Supervisord.start({
      programs: [{ name: 'logger', command: programs.sleep(), options: { stdout_logfile: path.join(shmDir, 'logger.out.log') } }],
    });
    await sv.waitFor((st) => st.get('logger')?.state === 'RUNNING', 60_000);
    exp = await Exporter.start({
      config: {
        supervisor: { url: sv.unixUrl },
        paths: [
          { name: 'data', path: dir },
          { name: 'missing', path: path.join(dir, 'not', 'yet') },
        ],
        databases: [path.join(dir, '**', '*.db')],
      },
    });
  });

  after(async () => {
    await exp?.cleanup();
    await sv?.cleanup();
    if (dir) removeTmpDir(dir);
    if (shmDir) removeTmpDir(shmDir);
  });

  /**
   * Scrapes until df said the same before and after it (other programs write to these disks);
   * on a disk that never rests, the figures of the last scrape lie between df's before and after.
   */
  async function settled(p: string): Promise<{ s: ParsedSample[]; d: Df; labels: Record<string, string>; before: Df }> {
    const d0 = df(p);
    const labels = { mountpoint: d0.target, fstype: d0.fstype };
    let last: { s: ParsedSample[]; d: Df; before: Df } | undefined;
    for (let i = 0; i < 40; i++) {
      const before = df(p);
      const s = await exp.scrape();
      const afterDf = df(p);
      last = { s, d: afterDf, before };
      if (JSON.stringify(before) === JSON.stringify(afterDf)) break;
    }
    return { ...(last as { s: ParsedSample[]; d: Df; before: Df }), labels };
  }
  const between = (v: number | undefined, a: number, b: number): boolean => v !== undefined && v >= Math.min(a, b) && v <= Math.max(a, b);

  for (const [what, target] of [
    ['the disk holding a configured path', () => dir],
    ['the tmpfs holding a service log', () => shmDir],
  ] as const) {
    it(`gives ${what} as df -B1 and os.statvfs do`, async () => {
      const p = target();
      const { s, d, labels, before: d1 } = await settled(p);
      assert.equal(value(s, 'hostaudit_filesystem_size_bytes', labels), d.size);
      assert.equal(value(s, 'hostaudit_filesystem_files', labels), d.itotal);
      const avail = value(s, 'hostaudit_filesystem_avail_bytes', labels);
      const ifree = value(s, 'hostaudit_filesystem_files_free', labels);
      if (JSON.stringify(d1) === JSON.stringify(d)) {
        assert.equal(avail, d.avail);
        assert.equal(ifree, d.iavail);
      } else {
        assert.ok(between(avail, d1.avail, d.avail), `avail ${avail} between df's ${d1.avail} and ${d.avail}`);
        assert.ok(between(ifree, d1.iavail, d.iavail), `free inodes ${ifree} between df's ${d1.iavail} and ${d.iavail}`);
      }
      assert.equal(find(s, 'hostaudit_filesystem_size_bytes', labels)[0]?.labels.device, d.source);
      const v = statvfs(p);
      assert.equal(value(s, 'hostaudit_filesystem_size_bytes', labels), v.size);
      assert.equal(value(s, 'hostaudit_filesystem_files', labels), v.files);
    });
  }

  it("lists each filesystem once, the service logs' included, and none it was not asked about", async () => {
    const s = await exp.scrape();
    const mounts = find(s, 'hostaudit_filesystem_size_bytes').map((x) => x.labels.mountpoint).sort();
    const expected = [...new Set([df(dir).target, df(shmDir).target, df(sv.logDir).target])].sort();
    assert.deepEqual(mounts, expected);
    assert.ok(!mounts.includes('/proc'));
  });

  it('names the mount as mountinfo does, by device number and longest mountpoint', () => {
    const mounts = parseMountinfo(readFileSync('/proc/1/mountinfo', 'latin1'));
    for (const p of [dir, shmDir, '/proc/self']) {
      const m = mountOf(mounts, devName(statSync(p).dev), p);
      assert.equal(m?.mountpoint, df(p).target, p);
    }
    const escaped = parseMountinfo('36 35 98:0 / /mnt/a\\040b rw - ext4 /dev/sd\\134x rw\nbroken line\n');
    assert.deepEqual(escaped, [{ dev: '98:0', mountpoint: '/mnt/a b', fstype: 'ext4', device: '/dev/sd\\x' }]);
  });
});
