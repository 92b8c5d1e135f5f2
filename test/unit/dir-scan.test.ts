// The walker's bookkeeping on small real trees: merging walkers' counts (hardlinks once across
// walkers), directories that vanish or turn into files between being listed and being read,
// and the single-thread walk against the pool.
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, rmSync, statSync, writeFileSync, linkSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mergeCounts, scanTree, walkSync, Walker, type PartialCounts } from '../../src/sources/dir-scan.js';
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
});
