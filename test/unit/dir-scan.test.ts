// The walker's bookkeeping on small real trees: merging walkers' counts (hardlinks once across
// walkers), directories that vanish or turn into files between being listed and being read,
// and the single-thread walk against the pool.
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, rmSync, statSync, writeFileSync, linkSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mergeCounts, scanSliced, scanTree, walkSync, Walker, WalkerPool, type PartialCounts, type ScanResult } from '../../src/sources/dir-scan.js';
import { makeTmpDir, removeTmpDir } from '../helpers/tmp.js';

function part(over: Partial<PartialCounts>): PartialCounts {
  return { bytes: 0, files: 0, filesModified: [], errors: 0, errorSamples: [], linked: [], ...over };
}

describe('mergeCounts', () => {
  it('adds each multiply-linked inode once, keyed by device and inode', () => {
    const r = mergeCounts(
      { root: '/x', modifiedSince: [0] },
      [
        part({ bytes: 10, files: 2, filesModified: [1], linked: [[1, 100, 7], [1, 101, 5]] }),
        part({ bytes: 20, files: 3, filesModified: [2], errors: 1, errorSamples: ['EACCES /x/a'], linked: [[1, 100, 7], [2, 100, 3]] }),
      ],
      0,
      1,
      true,
    );
    // 10 + 20 + 7 (dev1 ino100 once) + 5 + 3 (same inode number, other device)
    assert.equal(r.bytes, 45);
    assert.equal(r.files, 5);
    assert.deepEqual(r.filesModified, [3]);
    assert.equal(r.errors, 1);
    assert.deepEqual(r.errorSamples, ['EACCES /x/a']);
  });
});

describe('Walker on a real tree', () => {
  let dir: string;
  before(() => {
    dir = makeTmpDir('hostaudit-walker-');
  });
  after(() => removeTmpDir(dir));

  it('a directory removed or replaced by a file after it was listed: counted, one error each', () => {
    const root = path.join(dir, 'vanish');
    mkdirSync(path.join(root, 'a', 'inner'), { recursive: true });
    mkdirSync(path.join(root, 'b'));
    writeFileSync(path.join(root, 'a', 'inner', 'f'), 'data');
    const sizes = ['', 'a', 'b'].map((p) => lstatSync(path.join(root, p)).size);
    const w = new Walker([]);
    let calls = 0;
    // wantsWork runs before a pending directory is read while two or more wait: right after
    // the root has been listed,
    // remove one child and replace the other with a file.
    const ok = w.run({ dir: root, ancestors: [], root: true }, () => {
      if (calls++ === 0) {
        rmSync(path.join(root, 'a'), { recursive: true });
        rmSync(path.join(root, 'b'), { recursive: true });
        writeFileSync(path.join(root, 'b'), 'now a file');
      }
      return false;
    });
    assert.equal(ok, true);
    const c = w.finish();
    assert.equal(c.errors, 2);
    assert.equal(c.bytes, sizes.reduce((s, n) => s + n, 0));
    assert.deepEqual(c.errorSamples.map((s) => s.split(' ')[0]).sort(), ['ENOENT', 'ENOTDIR']);
  });

  it('a missing root: not ok, one error', () => {
    const r = walkSync({ root: path.join(dir, 'nope'), modifiedSince: [] });
    assert.equal(r.ok, false);
    assert.equal(r.errors, 1);
    assert.equal(r.bytes, 0);
  });

  it('a root that is a file or a symlink is measured itself, like du -sb FILE', () => {
    const f = path.join(dir, 'plain');
    writeFileSync(f, 'x'.repeat(777));
    assert.equal(walkSync({ root: f, modifiedSince: [] }).bytes, 777);
    symlinkSync('plain', path.join(dir, 'link'));
    assert.equal(walkSync({ root: path.join(dir, 'link'), modifiedSince: [] }).bytes, 'plain'.length);
  });

  it('the pool of walkers and the single-thread walk agree on a wide, deep tree', async () => {
    const root = path.join(dir, 'wide');
    let expectedFiles = 0;
    for (let a = 0; a < 12; a++) {
      let d = path.join(root, `a${a}`);
      for (let depth = 0; depth < a; depth++) d = path.join(d, `d${depth}`);
      mkdirSync(d, { recursive: true });
      for (let i = 0; i < 20; i++, expectedFiles++) writeFileSync(path.join(d, `f${i}`), 'y'.repeat(a * 31 + i));
      linkSync(path.join(d, 'f0'), path.join(root, `link-to-a${a}-f0`));
      expectedFiles++;
    }
    const single = walkSync({ root, modifiedSince: [0] });
    const pooled = await scanTree({ root, modifiedSince: [0] }, 2);
    assert.equal(single.files, expectedFiles);
    assert.equal(pooled.files, expectedFiles);
    assert.deepEqual(pooled.filesModified, [expectedFiles]);
    assert.equal(pooled.bytes, single.bytes);
    assert.equal(pooled.errors, 0);
    // Hardlinked f0 files are counted once though two names exist.
    assert.ok(statSync(path.join(root, 'link-to-a3-f0')).nlink === 2);
  });

  it('measures directories inside the tree in the same walk exactly as each walked alone', async () => {
    const root = path.join(dir, 'nested');
    const logs = path.join(root, 'logs');
    const data = path.join(root, 'data');
    const deep = path.join(logs, 'archive');
    for (const d of [path.join(logs, 'a'), deep, path.join(data, 'prod'), path.join(root, 'code')]) mkdirSync(d, { recursive: true });
    for (let i = 0; i < 30; i++) writeFileSync(path.join(logs, 'a', `f${i}.log`), 'l'.repeat(100 + i));
    for (let i = 0; i < 5; i++) writeFileSync(path.join(deep, `old${i}.log`), 'o'.repeat(1000 + i));
    writeFileSync(path.join(data, 'prod', 'orders.db'), 'd'.repeat(4096));
    writeFileSync(path.join(root, 'code', 'main.py'), 'print(1)\n');
    // A file linked inside logs and from outside it: once in each tree that holds a name of it.
    linkSync(path.join(logs, 'a', 'f0.log'), path.join(root, 'code', 'f0-link'));
    linkSync(path.join(logs, 'a', 'f1.log'), path.join(logs, 'f1-again'));
    symlinkSync(logs, path.join(data, 'logs-link')); // not followed: the link's own size
    // A configured path that is a symlink inside the tree, and one that does not exist.
    symlinkSync(data, path.join(root, 'data-link'));
    const within = [
      { root: logs, modifiedSince: [0, Date.now() + 3_600_000] },
      { root: data, modifiedSince: [] },
      { root: deep, modifiedSince: [0] },
      { root: path.join(root, 'data-link'), modifiedSince: [] },
      { root: path.join(root, 'missing'), modifiedSince: [] },
    ];
    const req = { root, modifiedSince: [0], within };
    for (const r of [walkSync(req), await scanTree(req, 2)]) {
      const alone = walkSync({ root, modifiedSince: [0] });
      assert.equal(r.bytes, alone.bytes);
      assert.equal(r.files, alone.files);
      assert.equal(r.within?.length, within.length);
      for (const [i, w] of within.entries()) {
        if (i >= 3) {
          assert.equal(r.within?.[i], undefined, `${w.root} is not reached as a directory: scanned on its own`);
          continue;
        }
        const one = walkSync(w);
        const got: ScanResult | undefined = r.within?.[i];
        assert.ok(got, w.root);
        assert.equal(got.bytes, one.bytes, `${w.root} bytes`);
        assert.equal(got.files, one.files, `${w.root} files`);
        assert.deepEqual(got.filesModified, one.filesModified, `${w.root} modified`);
        assert.equal(got.errors, one.errors, `${w.root} errors`);
        assert.equal(got.ok, true);
      }
    }
    // The figures themselves, as du -sb and find count them.
    const logsAlone = walkSync({ root: logs, modifiedSince: [] });
    assert.equal(logsAlone.files, 36); // 30 + 5 + the second name of f1
  });

  it('a walk on the event loop in slices equals the plain walk, handing over to threads or not', async () => {
    const root = path.join(dir, 'sliced');
    mkdirSync(path.join(root, 'flat'), { recursive: true });
    for (let i = 0; i < 3000; i++) writeFileSync(path.join(root, 'flat', `f${i}`), 'z'.repeat(i % 97)); // one big listing
    for (let a = 0; a < 30; a++) {
      const d = path.join(root, 'logs', `d${a}`, 'deeper');
      mkdirSync(d, { recursive: true });
      for (let i = 0; i < 20; i++) writeFileSync(path.join(d, `x${i}`), 'q'.repeat(a + i));
    }
    linkSync(path.join(root, 'flat', 'f5'), path.join(root, 'logs', 'f5-link'));
    const req = { root, modifiedSince: [0], within: [{ root: path.join(root, 'logs'), modifiedSince: [] }] };
    const want = walkSync(req);
    const pool = new WalkerPool(2);
    try {
      // All on the event loop; then handed to the threads after 100 entries, and after 10 (inside the flat listing).
      for (const max of [1_000_000, 100, 10]) {
        const got = await scanSliced(req, pool, undefined, max);
        assert.equal(got.bytes, want.bytes, `bytes, max ${max}`);
        assert.equal(got.files, want.files, `files, max ${max}`);
        assert.deepEqual(got.filesModified, want.filesModified);
        assert.equal(got.errors, 0);
        assert.equal(got.within?.[0]?.bytes, want.within?.[0]?.bytes, `logs bytes, max ${max}`);
        assert.equal(got.within?.[0]?.files, want.within?.[0]?.files);
      }
    } finally {
      await pool.close();
    }
  });

  // A walk that made no progress between yields would never end: the timeout makes that a failure.
  it('a walk on the event loop yields to it between slices, also inside a long listing', { timeout: 60_000 }, async () => {
    // Event-loop turns while the walk runs, counted by a chain of setImmediate (one per turn).
    let turns = 0;
    let counting = true;
    const tick = (): void => {
      turns++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    const pool = new WalkerPool(1);
    try {
      // 0 ms slices: a yield at every check, before each directory and every 256 entries.
      const r = await scanSliced({ root: path.join(dir, 'sliced', 'flat'), modifiedSince: [] }, pool, undefined, 1_000_000, 0);
      assert.equal(r.files, 3000);
    } finally {
      counting = false;
      await pool.close();
    }
    assert.ok(turns >= 10, `the event loop turned ${turns} times during the walk of one 3000-entry listing`);
  });

  it('a walk on the event loop stops when its signal is aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    const pool = new WalkerPool(1);
    try {
      await assert.rejects(scanSliced({ root: path.join(dir, 'sliced'), modifiedSince: [] }, pool, ac.signal, 1_000_000), /cancelled/);
    } finally {
      await pool.close();
    }
  });
});
