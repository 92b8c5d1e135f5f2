// ProcReader.readProcessTable parses a stat line only when it differs from the one read last
// time for that entry: against a proc root of the test's own, a line changed, a process gone
// and one come each show at the next read, and an unchanged line gives the same reading.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ProcReader } from '../../src/sources/proc-tree.js';
import { makeTmpDir, removeTmpDir } from '../helpers/tmp.js';

/** A stat line as the kernel writes it: pid (comm) state ppid … utime(14) … starttime(22) vsize rss. */
function statLine(pid: number, ppid: number, utime: number, start: number): string {
  const f = ['S', ppid, pid, pid, 0, -1, 4194560, 100, 0, 2, 0, utime, 3, 0, 0, 20, 0, 1, 0, start, 1_000_000, 200];
  return `${pid} (sh) ${f.join(' ')} 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n`;
}

describe('ProcReader process table', () => {
  let root: string;
  const write = (pid: number, line: string): void => {
    mkdirSync(path.join(root, String(pid)), { recursive: true });
    writeFileSync(path.join(root, String(pid), 'stat'), line);
  };

  before(() => {
    root = makeTmpDir('hostaudit-proctable-');
  });
  after(() => {
    if (root) removeTmpDir(root);
  });

  it('follows changed, exited and new processes, and parses an unchanged line once', () => {
    write(10, statLine(10, 1, 5, 1000));
    write(11, statLine(11, 10, 7, 1001));
    const proc = new ProcReader(root);
    const t1 = proc.readProcessTable();
    assert.deepEqual([...t1.byPid.keys()].sort(), [10, 11]);
    assert.equal(t1.byPid.get(11)?.utime, 7);
    assert.deepEqual(t1.children.get(10), [11]);

    write(11, statLine(11, 10, 9, 1001)); // it ran
    write(12, statLine(12, 10, 1, 1002)); // a new child
    const t2 = proc.readProcessTable();
    assert.equal(t2.byPid.get(11)?.utime, 9);
    assert.equal(t2.byPid.get(12)?.starttime, 1002);
    assert.equal(t2.byPid.get(10), t1.byPid.get(10), 'an unchanged line: the same reading');
    assert.deepEqual(t2.children.get(10)?.sort(), [11, 12]);

    rmSync(path.join(root, '11'), { recursive: true });
    write(12, 'garbage\n'); // a line that does not parse: skipped
    const t3 = proc.readProcessTable();
    assert.deepEqual([...t3.byPid.keys()], [10]);

    write(11, statLine(11, 10, 0, 2000)); // the pid reused by another process
    write(12, statLine(12, 10, 1, 1002)); // and the line parses again
    const t4 = proc.readProcessTable();
    assert.equal(t4.byPid.get(11)?.starttime, 2000);
    assert.equal(t4.byPid.get(11)?.utime, 0);
    assert.equal(t4.byPid.get(12)?.starttime, 1002);
  });
});
