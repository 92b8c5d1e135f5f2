// The paths collector against real trees on disk, compared with `du -sb` and `find` run here:
// nested directories, a hardlink inside and one across the tree, a symlink loop, a dangling
// link, a symlink to a directory outside, an unreadable directory, files with set mtimes, a
// missing path, and a tree that churns while it is scanned.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import {
  chmodSync,
  linkSync,
  mkdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Exporter, ROOT } from './helpers/exporter.js';
import { find, value, type ParsedSample } from './helpers/metrics.js';
import { sleep } from './helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';
import { isRoot, unprivileged } from './helpers/unprivileged.js';


function sh(cmd: string, args: string[], opts: SpawnSyncOptions = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** `du -sb DIR`: [bytes, error lines]. */
function du(dir: string, asUnprivileged = false): { bytes: number; errors: number } {
  const r = asUnprivileged ? sh(...unprivileged('du', ['-sb', dir])) : sh('du', ['-sb', dir]);
  const bytes = Number(r.stdout.split('\t')[0]);
  assert.ok(Number.isFinite(bytes) && bytes > 0, `du printed ${JSON.stringify(r.stdout)}`);
  return { bytes, errors: r.stderr.split('\n').filter((l) => l.startsWith('du:')).length };
}

/** Entries find counts, one byte printed per entry (names may contain newlines). */
function findCount(dir: string, ...expr: string[]): number {
  const r = sh('find', [dir, ...expr, '-printf', 'x']);
  return r.stdout.length;
}

function setMtime(file: string, agoMs: number): void {
  const t = (Date.now() - agoMs) / 1000;
  utimesSync(file, t, t);
}

const MIN = 60_000;

/** Builds the tree the tests measure; returns its root. */
function buildTree(base: string): { root: string; outside: string; locked: string } {
  const root = path.join(base, 'logs');
  const outside = path.join(base, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  // Nested directories with files of assorted sizes, old enough to fall outside every window.
  for (let a = 0; a < 6; a++) {
    for (let b = 0; b < 4; b++) {
      const dir = path.join(root, `svc${a}`, `day${b}`);
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < 15; i++) {
        const f = path.join(dir, `part-${i}.log`);
        writeFileSync(f, Buffer.alloc((a * 997 + b * 131 + i * 7919) % 20_000, 97));
        setMtime(f, 3 * 24 * 60 * MIN);
      }
    }
  }
  // Set mtimes: 3 within 10m, 5 within 1h (3 + 2), the rest older.
  const recent = path.join(root, 'recent');
  mkdirSync(recent);
  for (const [name, ago] of [
    ['a.log', 2 * MIN],
    ['b.log', 4 * MIN],
    ['c.log', 6 * MIN],
    ['d.log', 30 * MIN],
    ['e.log', 40 * MIN],
    ['f.log', 3 * 60 * MIN],
  ] as const) {
    const f = path.join(recent, name);
    writeFileSync(f, `${name}\n`.repeat(100));
    setMtime(f, ago);
  }
  // A hardlink inside the tree: two names, one inode, counted once by du.
  writeFileSync(path.join(root, 'big.log'), Buffer.alloc(123_457, 98));
  setMtime(path.join(root, 'big.log'), 5 * 60 * MIN);
  linkSync(path.join(root, 'big.log'), path.join(root, 'svc1', 'big-again.log'));
  // A hardlink across the tree: the other name lives outside; inside it is counted once.
  writeFileSync(path.join(outside, 'shared.db'), Buffer.alloc(54_321, 99));
  setMtime(path.join(outside, 'shared.db'), 5 * 60 * MIN);
  linkSync(path.join(outside, 'shared.db'), path.join(root, 'svc2', 'shared.db'));
  // Symlinks: a loop, a dangling one, one to a directory outside, one to the root itself.
  symlinkSync('loop-b', path.join(root, 'loop-a'));
  symlinkSync('loop-a', path.join(root, 'loop-b'));
  symlinkSync('/nonexistent/target/that/is/long', path.join(root, 'dangling'));
  symlinkSync(outside, path.join(root, 'to-outside'));
  symlinkSync('..', path.join(root, 'svc3', 'up'));
  // Odd names and an empty directory.
  writeFileSync(path.join(root, 'with space.log'), 'x');
  writeFileSync(path.join(root, 'new\nline.log'), 'yy');
  writeFileSync(path.join(root, 'ünïcødé.log'), 'zzz');
  for (const f of ['with space.log', 'new\nline.log', 'ünïcødé.log']) setMtime(path.join(root, f), 5 * 60 * MIN);
  mkdirSync(path.join(root, 'empty'));
  // An unreadable directory with content (du counts the directory, not what is inside).
  const locked = path.join(root, 'locked');
  mkdirSync(path.join(locked, 'deeper'), { recursive: true });
  writeFileSync(path.join(locked, 'secret.log'), Buffer.alloc(9999));
  setMtime(path.join(locked, 'secret.log'), 5 * 60 * MIN);
  chmodSync(locked, 0o000);
  return { root, outside, locked };
}

async function waitForSeries(exp: Exporter, name: string, match: Record<string, string>, timeoutMs = 20_000): Promise<ParsedSample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = await exp.scrape();
    if (find(m, name, match).length > 0) return m;
    if (Date.now() > deadline) throw new Error(`${name} ${JSON.stringify(match)} never appeared:\n${exp.output.slice(-2000)}`);
    await sleep(100);
  }
}

describe('paths collector on a real tree', () => {
  let base: string;
  let tree: ReturnType<typeof buildTree>;
  let exp: Exporter;

  before(async () => {
    base = makeTmpDir('hostaudit-paths-');
    chmodSync(base, 0o755); // the unprivileged checks below read it as nobody
    tree = buildTree(base);
    exp = await Exporter.start({
      config: {
        paths: [
          { name: 'logs', path: tree.root, modified_within: ['10m', '1h'] },
          { name: 'outside', path: tree.outside },
          { name: 'missing', path: path.join(base, 'does-not-exist') },
        ],
        scan_interval: '1s',
      },
    });
    await waitForSeries(exp, 'hostaudit_path_bytes', { name: 'logs' });
    await waitForSeries(exp, 'hostaudit_path_scan_errors', { name: 'missing' });
  });

  after(async () => {
    await exp?.cleanup();
    if (base) removeTmpDir(base);
  });

  it('hostaudit_path_bytes equals du -sb (hardlinks once, symlinks by their own size, dirs included)', async () => {
    const m = await exp.scrape();
    const expected = du(tree.root);
    assert.equal(value(m, 'hostaudit_path_bytes', { name: 'logs', path: tree.root }), expected.bytes);
    assert.equal(value(m, 'hostaudit_path_bytes', { name: 'outside', path: tree.outside }), du(tree.outside).bytes);
  });

  it('counts the hardlink across the tree once and does not follow symlinks out of it', async () => {
    // Sanity of the fixture itself: du -sb -L (following links) would differ, so a walk that
    // followed the to-outside link could not match du.
    const followed = Number(sh('du', ['-sbL', tree.root]).stdout.split('\t')[0]);
    const m = await exp.scrape();
    assert.notEqual(value(m, 'hostaudit_path_bytes', { name: 'logs' }), followed);
    // du -sb --count-links would count the inner hardlink twice; we must not.
    const countLinks = Number(sh('du', ['-sbl', tree.root]).stdout.split('\t')[0]);
    assert.ok(countLinks > du(tree.root).bytes);
    assert.notEqual(value(m, 'hostaudit_path_bytes', { name: 'logs' }), countLinks);
  });

  it('hostaudit_path_files equals find -type f', async () => {
    const m = await exp.scrape();
    const expected = findCount(tree.root, '-type', 'f');
    assert.ok(expected > 360);
    assert.equal(value(m, 'hostaudit_path_files', { name: 'logs' }), expected);
  });

  it('hostaudit_path_files_modified per window, labelled as written in the config', async () => {
    const m = await exp.scrape();
    const since = (ago: number): string => `@${((Date.now() - ago) / 1000).toFixed(0)}`;
    const in10m = findCount(tree.root, '-type', 'f', '-newermt', since(10 * MIN));
    const in1h = findCount(tree.root, '-type', 'f', '-newermt', since(60 * MIN));
    assert.equal(in10m, 3);
    assert.equal(in1h, 5);
    assert.equal(value(m, 'hostaudit_path_files_modified', { name: 'logs', within: '10m' }), in10m);
    assert.equal(value(m, 'hostaudit_path_files_modified', { name: 'logs', within: '1h' }), in1h);
    assert.equal(find(m, 'hostaudit_path_files_modified', { name: 'outside' }).length, 0, 'no windows configured');
  });

  it('scan errors match du: none for symlink loops and dangling links', async () => {
    const m = await exp.scrape();
    const expected = du(tree.root);
    // As root the locked directory is readable, so du reports nothing; otherwise one error.
    assert.equal(expected.errors, isRoot ? 0 : 1);
    assert.equal(value(m, 'hostaudit_path_scan_errors', { name: 'logs' }), expected.errors);
  });

  it('a missing path: one error, timestamp and duration, no size', async () => {
    const m = await exp.scrape();
    const l = { name: 'missing' };
    assert.equal(value(m, 'hostaudit_path_scan_errors', l), 1);
    assert.equal(value(m, 'hostaudit_path_bytes', l), undefined);
    assert.equal(value(m, 'hostaudit_path_files', l), undefined);
    const ts = value(m, 'hostaudit_path_last_scan_timestamp_seconds', l) ?? 0;
    assert.ok(Math.abs(ts - Date.now() / 1000) < 30, `timestamp ${ts}`);
    assert.ok((value(m, 'hostaudit_path_scan_duration_seconds', l) ?? -1) >= 0);
  });

  it('rescans every scan_interval: a new file shows up', async () => {
    const before = await exp.scrape();
    const t0 = value(before, 'hostaudit_path_last_scan_timestamp_seconds', { name: 'logs' }) ?? 0;
    writeFileSync(path.join(tree.root, 'svc0', 'late.log'), Buffer.alloc(4321));
    const expected = du(tree.root).bytes;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const m = await exp.scrape();
      const ts = value(m, 'hostaudit_path_last_scan_timestamp_seconds', { name: 'logs' }) ?? 0;
      if (ts > t0 + 1 && value(m, 'hostaudit_path_bytes', { name: 'logs' }) === expected) break;
      assert.ok(Date.now() < deadline, `no rescan with ${expected} bytes; last ${JSON.stringify(find(m, 'hostaudit_path_bytes'))}`);
      await sleep(200);
    }
  });

  it('an unreadable directory, read as an unprivileged user: du and the walk agree', async () => {
    // Root reads a mode-000 directory anyway, so both run without root's permission bypass.
    const expected = du(tree.root, true);
    assert.equal(expected.errors, 1);
    const script = path.join(base, 'scan-once.mts');
    writeFileSync(
      script,
      `import { scanTree } from ${JSON.stringify(new URL('../src/sources/dir-scan.ts', import.meta.url).href)};\n` +
        `const r = await scanTree({ root: ${JSON.stringify(tree.root)}, modifiedSince: [] });\n` +
        'process.stdout.write(JSON.stringify(r));\n',
    );
    chmodSync(script, 0o644);
    const r = sh(...unprivileged(process.execPath, ['--import', import.meta.resolve('tsx'), script]), { cwd: ROOT });
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout) as { bytes: number; errors: number; errorSamples: string[] };
    assert.equal(res.bytes, expected.bytes);
    assert.equal(res.errors, expected.errors);
    assert.match(res.errorSamples[0] ?? '', /^EACCES .*locked$/);
  });

  it('a tree that churns during scans: no crash, and exact again once it settles', async () => {
    const churnDir = path.join(tree.root, 'churn');
    mkdirSync(churnDir);
    // A separate process creates, replaces and deletes files and directories as fast as it can.
    const churn = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs'); const d = ${JSON.stringify(churnDir)}; let i = 0;
         setInterval(() => { for (let k = 0; k < 200; k++, i++) { const p = d + '/f' + (i % 50);
           try { if (i % 3 === 0) fs.rmSync(p, { recursive: true, force: true });
                 else if (i % 3 === 1) fs.mkdirSync(p + 'd/x', { recursive: true });
                 else { fs.writeFileSync(p + '.tmp', 'x'.repeat(i % 1000)); fs.renameSync(p + '.tmp', p); } } catch {} } }, 1);`,
      ],
      { stdio: 'ignore' },
    );
    try {
      const deadline = Date.now() + 4000;
      let scrapes = 0;
      while (Date.now() < deadline) {
        const m = await exp.scrape();
        const errs = value(m, 'hostaudit_path_scan_errors', { name: 'logs' });
        assert.ok(errs !== undefined && errs >= 0);
        scrapes++;
        await sleep(100);
      }
      assert.ok(scrapes > 10);
    } finally {
      churn.kill('SIGKILL');
      await new Promise((r) => churn.once('exit', r));
    }
    renameSync(churnDir, path.join(base, 'churned'));
    rmSync(path.join(base, 'churned'), { recursive: true, force: true });
    const expected = du(tree.root).bytes;
    const t0 = Date.now() / 1000;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const m = await exp.scrape();
      const ts = value(m, 'hostaudit_path_last_scan_timestamp_seconds', { name: 'logs' }) ?? 0;
      if (ts > t0 + 1.2 && value(m, 'hostaudit_path_bytes', { name: 'logs' }) === expected) break;
      assert.ok(Date.now() < deadline, `did not settle at ${expected}`);
      await sleep(200);
    }
    assert.equal(exp.child.exitCode, null, 'exporter still running');
  });
});
