// TreeModel against a naive recount: random sequences of what events do to a tree (files and
// directories created, resized, retouched, removed; hardlinks made and dropped anywhere in the
// tree) leave bytes, files and modified counts equal to counting the surviving entries afresh,
// each inode once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Kind, TreeModel, type EntryStat } from '../../src/sources/watch/tree-model.js';
import { fuzzParams } from '../helpers/fuzz.js';

const HOUR = 3600_000;

interface Node {
  dir: number;
  name: string;
  st: EntryStat;
}

type Op =
  | { op: 'file'; parent: number; size: number; age: number }
  | { op: 'dir'; parent: number }
  | { op: 'link'; target: number; parent: number }
  | { op: 'resize'; target: number; size: number }
  | { op: 'touch'; target: number; age: number }
  | { op: 'remove'; target: number }
  | { op: 'count' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('file' as const), parent: fc.nat(50), size: fc.nat(10_000), age: fc.integer({ min: 0, max: 2 * HOUR }) }),
  fc.record({ op: fc.constant('dir' as const), parent: fc.nat(50) }),
  fc.record({ op: fc.constant('link' as const), target: fc.nat(50), parent: fc.nat(50) }),
  fc.record({ op: fc.constant('resize' as const), target: fc.nat(50), size: fc.nat(10_000) }),
  fc.record({ op: fc.constant('touch' as const), target: fc.nat(50), age: fc.integer({ min: 0, max: 2 * HOUR }) }),
  fc.record({ op: fc.constant('remove' as const), target: fc.nat(50) }),
  fc.constant({ op: 'count' as const }),
);

describe('TreeModel', () => {
  it('keeps du and find figures equal to a recount under any sequence of changes', () => {
    fc.assert(
      // settleAfter 0 merges the recent mtimes on almost every change; 4096 only when counted.
      fc.property(fc.array(opArb, { maxLength: 80 }), fc.constantFrom(0, 2, 4096), (ops, settleAfter) => {
        const now = Date.now();
        const model = new TreeModel(HOUR, settleAfter);
        // The reference: live entries by model index, and each inode's links.
        const live = new Map<number, Node>();
        const inodes = new Map<number, { size: number; mtime: number; nlink: number }>();
        let nextIno = 100;
        let seq = 0;
        const rootSt: EntryStat = { kind: Kind.Dir, size: 4096, mtimeMs: now, dev: 1, ino: 2, nlink: 2 };
        const root = model.addRoot(Buffer.from('/r'), rootSt);
        live.set(root, { dir: -1, name: '/r', st: rootSt });
        const pick = (n: number, want?: Kind): number | undefined => {
          const c = [...live.entries()].filter(([i, e]) => i !== root && (want === undefined || e.st.kind === want));
          return c.length === 0 ? undefined : (c[n % c.length] as [number, Node])[0];
        };
        const dirs = (n: number): number => {
          const c = [...live.entries()].filter(([, e]) => e.st.kind === Kind.Dir);
          return (c[n % c.length] as [number, Node])[0];
        };
        // What an event re-read gives: every live link of an inode reports its current nlink.
        const refresh = (ino: number): void => {
          const x = inodes.get(ino);
          if (!x) return;
          for (const [i, e] of live) {
            if (e.st.ino !== ino) continue;
            e.st = { ...e.st, size: x.size, mtimeMs: x.mtime, nlink: x.nlink };
          }
        };
        // Recount: each inode once; regular files per entry.
        const check = (): void => {
          const counted = new Set<number>();
          let bytes = 0;
          let files = 0;
          let recent = 0;
          const cutoff = now - HOUR / 2;
          for (const e of live.values()) {
            const x = inodes.get(e.st.ino);
            const size = x ? x.size : e.st.size;
            if (!counted.has(e.st.ino)) {
              counted.add(e.st.ino);
              bytes += e.st.kind === Kind.File ? size : e.st.size;
            }
            if (e.st.kind === Kind.File) {
              files++;
              if ((x ? x.mtime : e.st.mtimeMs) >= cutoff) recent++;
            }
          }
          assert.equal(model.files, files, 'files');
          assert.equal(model.bytes, bytes, 'bytes');
          assert.deepEqual(model.modifiedSince([cutoff]), [recent], 'modified');
        };
        for (const o of ops) {
          if (o.op === 'count') check();
          else if (o.op === 'file') {
            const ino = nextIno++;
            inodes.set(ino, { size: o.size, mtime: now - o.age, nlink: 1 });
            const d = dirs(o.parent);
            const st: EntryStat = { kind: Kind.File, size: o.size, mtimeMs: now - o.age, dev: 1, ino, nlink: 1 };
            const name = `f${seq++}`;
            const i = model.add(d, Buffer.from(name), st, true);
            live.set(i, { dir: d, name, st });
          } else if (o.op === 'dir') {
            const d = dirs(o.parent);
            const st: EntryStat = { kind: Kind.Dir, size: 4096, mtimeMs: now, dev: 1, ino: nextIno++, nlink: 2 };
            const name = `d${seq++}`;
            const i = model.add(d, Buffer.from(name), st, true);
            live.set(i, { dir: d, name, st });
          } else if (o.op === 'link') {
            const t = pick(o.target, Kind.File);
            if (t === undefined) continue;
            const target = live.get(t) as Node;
            const x = inodes.get(target.st.ino) as { size: number; mtime: number; nlink: number };
            x.nlink++;
            refresh(target.st.ino);
            const d = dirs(o.parent);
            const name = `l${seq++}`;
            const st = { ...target.st };
            const i = model.add(d, Buffer.from(name), st, true);
            live.set(i, { dir: d, name, st });
            // Only the new name's event arrives; the old names learn nothing.
          } else if (o.op === 'resize' || o.op === 'touch') {
            const t = pick(o.target, Kind.File);
            if (t === undefined) continue;
            const e = live.get(t) as Node;
            const x = inodes.get(e.st.ino) as { size: number; mtime: number; nlink: number };
            if (o.op === 'resize') x.size = o.size;
            else x.mtime = now - o.age;
            refresh(e.st.ino);
            // The event names the entry written through; other links keep their old view.
            assert.ok(model.update(t, e.st));
          } else {
            const t = pick(o.target);
            if (t === undefined) continue;
            const e = live.get(t) as Node;
            const removed = new Set<number>();
            const stack = [t];
            while (stack.length > 0) {
              const j = stack.pop() as number;
              removed.add(j);
              for (const [k, c] of live) if (c.dir === j) stack.push(k);
            }
            model.remove(e.dir, e.name);
            for (const j of removed) {
              const n = live.get(j) as Node;
              live.delete(j);
              const x = inodes.get(n.st.ino);
              if (x && n.st.kind === Kind.File) x.nlink--;
            }
          }
        }
        check();
      }),
      fuzzParams(2000),
    );
  });
});
