// TreeCounter: a tree's counter never goes down while processes leave it, and counts each
// exited process's work once, whether the kernel folded it into the parent or not.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TreeCounter, type PidFate } from '../../src/collectors/tree-counters.js';

const s = (pid: number, ppid: number, value: number) => ({ pid, ppid, start: pid * 10, value });

describe('TreeCounter', () => {
  it('a child reaped inside the tree: its work is in the parent (io), not counted twice', () => {
    const c = new TreeCounter(true);
    const fate = new Map<number, PidFate>();
    const f = (pid: number): PidFate => fate.get(pid) ?? 'alive';
    assert.equal(c.update('r', [s(1, 0, 100), s(2, 1, 50)], f), 150);
    fate.set(2, 'zombie'); // exited, not yet waited for: not read, and not yet in the parent
    assert.equal(c.update('r', [s(1, 0, 100)], f), 150, 'never down');
    fate.set(2, 'gone'); // reaped: the kernel added its 50 to the parent
    assert.equal(c.update('r', [s(1, 0, 150)], f), 150);
    assert.equal(c.update('r', [s(1, 0, 160)], f), 160);
  });

  it('a figure the kernel does not fold in (context switches): the exited child is kept', () => {
    const c = new TreeCounter(false);
    const f = (pid: number): PidFate => (pid === 2 ? 'gone' : 'alive');
    assert.equal(c.update('r', [s(1, 0, 10), s(2, 1, 7)], () => 'alive'), 17);
    assert.equal(c.update('r', [s(1, 0, 12)], f), 19);
  });

  it('a process that left the tree alive (double fork) keeps its last-seen value', () => {
    const c = new TreeCounter(true);
    assert.equal(c.update('r', [s(1, 0, 100), s(3, 1, 40)], () => 'alive'), 140);
    assert.equal(c.update('r', [s(1, 0, 100)], () => 'alive'), 140);
    assert.equal(c.update('r', [s(1, 0, 130)], () => 'alive'), 170, "the parent's new work adds to it");
  });

  it('a new incarnation (restart) starts afresh', () => {
    const c = new TreeCounter(true);
    assert.equal(c.update('r1', [s(1, 0, 100)], () => 'alive'), 100);
    assert.equal(c.update('r2', [s(5, 0, 3)], () => 'alive'), 3);
  });
});
