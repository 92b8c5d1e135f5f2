// A directory swapped for a symlink while the walk runs (a log rotation or a hostile process):
// the walk reads each directory from its parent's open descriptor and never through a link,
// so nothing outside the tree is counted. The full-path walk of 0.1.3 listed `dir/a` by name
// after the swap and counted the files of whatever the link pointed to.
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Walker } from '../../src/sources/dir-scan.js';
import { makeTmpDir, removeTmpDir } from '../helpers/tmp.js';

const dir = makeTmpDir('hostaudit-swap-');
after(() => removeTmpDir(dir));

describe('a directory swapped for a symlink mid-walk', () => {
  it('is an error, and what the link points to is never counted', () => {
    const root = path.join(dir, 'tree');
    const outside = path.join(dir, 'outside');
    mkdirSync(path.join(root, 'a'), { recursive: true });
    mkdirSync(path.join(root, 'c'));
    writeFileSync(path.join(root, 'a', 'in.log'), 'i'.repeat(10));
    mkdirSync(outside);
    for (let i = 0; i < 5; i++) writeFileSync(path.join(outside, `secret${i}`), 's'.repeat(100_000));
    const w = new Walker([]);
    let swapped = false;
    // wantsWork is asked before each pending directory is read while two or more wait: right
    // after the root is listed, swap `a` for a link to the outside directory.
    w.run({ dir: root, ancestors: [], root: true }, () => {
      if (!swapped) {
        renameSync(path.join(root, 'a'), path.join(dir, 'a-moved'));
        symlinkSync(outside, path.join(root, 'a'));
        swapped = true;
      }
      return false;
    });
    const c = w.finish();
    assert.ok(swapped);
    assert.equal(c.files, 0, 'no file of the outside directory (nor of the moved one) counted');
    assert.ok(c.bytes < 100_000, `${c.bytes} bytes: none of the outside directory's 500,000`);
    assert.equal(c.errors, 1);
    assert.match(c.errorSamples[0] ?? '', /^(ELOOP|ENOTDIR) .*\/tree\/a$/);
  });

  it('a directory above one still to be read, swapped: the pending one is read where it was', () => {
    const root = path.join(dir, 'tree2');
    const deep = path.join(root, 'a', 'b');
    mkdirSync(deep, { recursive: true });
    mkdirSync(path.join(root, 'a', 'b2'));
    writeFileSync(path.join(deep, 'mine.log'), 'm'.repeat(7));
    const outside = path.join(dir, 'outside2', 'b');
    mkdirSync(outside, { recursive: true });
    writeFileSync(path.join(outside, 'theirs.log'), 't'.repeat(100_000));
    const w = new Walker([]);
    let calls = 0;
    w.run({ dir: root, ancestors: [], root: true }, () => {
      // After `a` is listed (b and b2 pending): `a` becomes a link to a directory holding another `b`.
      if (++calls === 1) {
        renameSync(path.join(root, 'a'), path.join(dir, 'a2-moved'));
        symlinkSync(path.join(dir, 'outside2'), path.join(root, 'a'));
      }
      return false;
    });
    const c = w.finish();
    assert.ok(calls >= 1);
    assert.equal(c.files, 1, 'mine.log, read through the directory that was listed');
    assert.ok(c.bytes < 100_000, `${c.bytes} bytes: not theirs.log`);
    assert.equal(c.errors, 0);
  });
});
