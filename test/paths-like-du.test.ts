// The walk against the real `du -sb` and `find` on a hostile tree (test/fixtures/hostile-tree.py):
// a chain 5000 directories deep (far past PATH_MAX), a comb 400 deep (a pending directory
// at every level, past PATH_MAX too), names that are not UTF-8 at several levels, unreadable directories of three kinds, symlink loops and hardlinks. Every strategy
// (one thread, the pool, the event loop, the event loop handing over to the pool) must give
// du's bytes and du's error count, as root and without root's permission bypass. Then: no
// descriptor outlives a walk, even a cancelled one, and a directory of 200,000 names never
// blocks the event loop.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { scanSliced, scanTree, walkSync, WalkerPool, type ScanResult } from '../src/sources/dir-scan.js';
import { ROOT } from './helpers/exporter.js';
import { makeTmpDir } from './helpers/tmp.js';
import { unprivileged } from './helpers/unprivileged.js';

const DEPTH = 5000;
const warnings: string[] = [];
process.on('warning', (w) => warnings.push(w.message));

function sh(cmd: string, args: string[], opts: SpawnSyncOptions = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

function du(dir: string, asUnprivileged: boolean): { bytes: number; errors: number } {
  const r = asUnprivileged ? sh(...unprivileged('du', ['-sb', dir])) : sh('du', ['-sb', dir]);
  const bytes = Number(r.stdout.split('\t')[0]);
  assert.ok(Number.isFinite(bytes) && bytes > 0, `du printed ${JSON.stringify(r.stdout.slice(0, 200))}`);
  return { bytes, errors: r.stderr.split('\n').filter((l) => l.startsWith('du:')).length };
}

/** Regular files as find counts them, one byte printed per file (names may hold anything). */
function findFiles(dir: string, asUnprivileged: boolean): number {
  const args = [dir, '-type', 'f', '-printf', 'x'];
  return (asUnprivileged ? sh(...unprivileged('find', args)) : sh('find', args)).stdout.length;
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** The four ways a scan runs, in one process. */
const SCRIPT = `
import { scanSliced, scanTree, walkSync, WalkerPool } from ${JSON.stringify(new URL('../src/sources/dir-scan.ts', import.meta.url).href)};
const req = { root: process.argv[2], modifiedSince: [] };
const pool = new WalkerPool(2);
const out = { thread: walkSync(req), pool: await scanTree(req, 2), loop: await scanSliced(req, pool), handover: await scanSliced(req, pool, undefined, 50) };
await pool.close();
process.stdout.write(JSON.stringify(out));
`;

describe('the walk against du -sb and find on a hostile tree', () => {
  let base: string;
  let tree: string;
  let script: string;

  before(() => {
    base = makeTmpDir('hostaudit-du-');
    chmodSync(base, 0o755); // read below without root's permission bypass
    tree = path.join(base, 'tree');
    const r = sh('python3', [path.join(ROOT, 'test', 'fixtures', 'hostile-tree.py'), tree, String(DEPTH)]);
    assert.equal(r.status, 0, r.stderr);
    script = path.join(base, 'scan.mts');
    writeFileSync(script, SCRIPT);
    chmodSync(script, 0o644);
  });

  after(() => {
    if (!base) return;
    // Node's rmSync cannot reach past PATH_MAX nor name bytes that are not UTF-8; GNU tools can.
    sh('chmod', ['-R', 'u+rwx', base]);
    sh('rm', ['-rf', base]);
  });

  it('without the permission bypass: du -sb bytes and error count for every strategy; escaped names in the error samples', () => {
    const want = du(tree, true);
    assert.equal(want.errors, 6, 'the fixture: 3 entries of a directory without x, 3 directories without r');
    const r = sh(...unprivileged(process.execPath, ['--import', import.meta.resolve('tsx'), script, tree]), { cwd: ROOT });
    assert.equal(r.status, 0, r.stderr.slice(0, 2000));
    assert.doesNotMatch(r.stderr, /Warning/, 'no process warning (a descriptor closed by a thread that did not open it)');
    const out = JSON.parse(r.stdout) as Record<string, ScanResult>;
    // find counts the two files of the directory without x from readdir's d_type, which lstat
    // cannot confirm; the walk (as du) cannot stat them, so it does not count them as files.
    const files = findFiles(tree, true) - 2;
    for (const [how, got] of Object.entries(out)) {
      assert.equal(got.bytes, want.bytes, `${how}: bytes`);
      assert.equal(got.errors, want.errors, `${how}: errors ${JSON.stringify(got.errorSamples)}`);
      assert.equal(got.files, files, `${how}: files`);
      assert.equal(got.ok, true);
    }
    const samples = out.thread?.errorSamples ?? [];
    assert.ok(samples.includes(`EACCES ${tree}/\\xff\\xfe/locked`), JSON.stringify(samples));
    assert.ok(samples.includes(`EACCES ${tree}/read-only/a`), JSON.stringify(samples));
  });

  it('with it (root reads everything): every byte and file du and find see, no errors', async () => {
    const want = du(tree, false);
    const files = findFiles(tree, false);
    const pool = new WalkerPool(2);
    try {
      for (const [how, got] of [
        ['thread', walkSync({ root: tree, modifiedSince: [0] })],
        ['pool', await pool.scan({ root: tree, modifiedSince: [0] })],
        ['handover', await scanSliced({ root: tree, modifiedSince: [0] }, pool, undefined, 50)],
      ] as const) {
        assert.equal(got.bytes, want.bytes, `${how}: bytes`);
        assert.equal(got.errors, want.errors, `${how}: errors ${JSON.stringify(got.errorSamples)}`);
        assert.equal(got.files, files, `${how}: files`);
        assert.deepEqual(got.filesModified, [files]);
      }
    } finally {
      await pool.close();
    }
  });

  it('a configured path inside another, over a chain deeper than PATH_MAX, is measured in the same walk as alone', () => {
    const sub = path.join(tree, 'deep', 'level-0');
    const got = walkSync({ root: tree, modifiedSince: [], within: [{ root: sub, modifiedSince: [] }] });
    const alone = walkSync({ root: sub, modifiedSince: [] });
    assert.equal(got.within?.[0]?.bytes, alone.bytes);
    assert.equal(got.within?.[0]?.files, alone.files);
    assert.equal(alone.bytes, du(sub, false).bytes);
  });

  it('no descriptor outlives a walk: finished, handed over, cancelled in the pool or on the event loop', async () => {
    const before = openFds();
    walkSync({ root: tree, modifiedSince: [] });
    await scanTree({ root: tree, modifiedSince: [] }, 2);
    const pool = new WalkerPool(2);
    await scanSliced({ root: tree, modifiedSince: [] }, pool, undefined, 50);
    // Cancelled while the threads walk the chain.
    const running = pool.scan({ root: tree, modifiedSince: [] });
    await new Promise((r) => setTimeout(r, 20));
    await pool.close();
    await running.catch(() => undefined);
    // Cancelled on the event loop, mid-walk.
    const ac = new AbortController();
    const pool2 = new WalkerPool(1);
    const sliced = scanSliced({ root: tree, modifiedSince: [] }, pool2, ac.signal, 1_000_000, 0);
    await new Promise((r) => setImmediate(r));
    ac.abort();
    await assert.rejects(sliced, /cancelled/);
    await pool2.close();
    assert.equal(openFds(), before, 'descriptors open before and after');
    assert.deepEqual(warnings, [], 'no process warning');
  });
});

describe('a directory of 200,000 names on the event loop', () => {
  let base: string;
  before(() => {
    base = makeTmpDir('hostaudit-flat-');
    const flat = path.join(base, 'flat');
    mkdirSync(flat);
    // Hardlinks of four files (ext4 allows 65,000 links each): a name costs no inode, so the
    // directory is built and removed in seconds rather than tens of seconds.
    const script = [
      'import os, sys',
      'd = os.open(sys.argv[1], os.O_RDONLY)',
      'for i in range(200000):',
      '    if i % 50000 == 0:',
      '        src = "entry-%06d" % i',
      '        os.close(os.open(src, os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=d))',
      '    else:',
      '        os.link(src, "entry-%06d" % i, src_dir_fd=d, dst_dir_fd=d)',
    ].join('\n');
    const r = sh('python3', ['-c', script, flat]);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => {
    if (base) sh('rm', ['-rf', base]);
  });

  it('is listed a few names at a time: the event loop is never blocked for a second', { timeout: 120_000 }, async (t) => {
    const h = monitorEventLoopDelay({ resolution: 10 });
    const pool = new WalkerPool(1);
    h.enable();
    let r: ScanResult;
    try {
      // Only the event loop: a listing cannot be handed to the threads half-read.
      r = await scanSliced({ root: path.join(base, 'flat'), modifiedSince: [] }, pool, undefined, 10);
    } finally {
      h.disable();
      await pool.close();
    }
    assert.equal(r.files, 200_000);
    assert.equal(r.errors, 0);
    const maxMs = h.max / 1e6;
    assert.ok(maxMs < 1000, `the event loop was blocked for ${maxMs.toFixed(0)} ms`);
    t.diagnostic(`max event-loop delay during the walk: ${maxMs.toFixed(1)} ms, walk ${r.durationMs.toFixed(0)} ms`);
  });
});
