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

// Sizes past 4 GiB take the model's high words; 2^40 keeps every sum of them exact.
const sizeArb = fc.oneof({ weight: 4, arbitrary: fc.nat(10_000) }, { weight: 1, arbitrary: fc.integer({ min: 2 ** 32 - 3, max: 2 ** 40 }) });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('file' as const), parent: fc.nat(50), size: sizeArb, age: fc.integer({ min: 0, max: 2 * HOUR }) }),
  fc.record({ op: fc.constant('dir' as const), parent: fc.nat(50) }),
  fc.record({ op: fc.constant('link' as const), target: fc.nat(50), parent: fc.nat(50) }),
  fc.record({ op: fc.constant('resize' as const), target: fc.nat(50), size: sizeArb }),
  fc.record({ op: fc.constant('touch' as const), target: fc.nat(50), age: fc.integer({ min: 0, max: 2 * HOUR }) }),
  fc.record({ op: fc.constant('remove' as const), target: fc.nat(50) }),
  fc.constant({ op: 'count' as const }),
);

describe('TreeModel', () => {
  it('keeps du and find figures equal to a recount under any sequence of changes', () => {
    fc.assert(
      // settleAfter 0 merges the recent mtimes on almost every change; 4096 only when counted.
      // Inode numbers from small ones to an overlayfs-like 2^62 (a double, so a step of 4096).
      fc.property(fc.array(opArb, { maxLength: 80 }), fc.constantFrom(0, 2, 4096), fc.constantFrom(100, 2 ** 32 - 4, 2 ** 62), (ops, settleAfter, inoBase) => {
        const now = Date.now();
        const model = new TreeModel(HOUR, { settleAfter });
        // The reference: live entries by model index, and each inode's links.
        const live = new Map<number, Node>();
        const inodes = new Map<number, { size: number; mtime: number; nlink: number }>();
        let inoSeq = 0;
        const newIno = (): number => inoBase + (inoBase > 2 ** 53 ? 4096 : 1) * inoSeq++;
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
            const ino = newIno();
            inodes.set(ino, { size: o.size, mtime: now - o.age, nlink: 1 });
            const d = dirs(o.parent);
            const st: EntryStat = { kind: Kind.File, size: o.size, mtimeMs: now - o.age, dev: 1, ino, nlink: 1 };
            const name = `f${seq++}`;
            const i = model.add(d, Buffer.from(name), st, true);
            live.set(i, { dir: d, name, st });
          } else if (o.op === 'dir') {
            const d = dirs(o.parent);
            const st: EntryStat = { kind: Kind.Dir, size: 4096, mtimeMs: now, dev: 1, ino: newIno(), nlink: 2 };
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

// The name index on its own: entries found by (directory, name) through one open-addressing
// table over an arena of name bytes. Hashes masked down to a few values make every name
// collide; thousands of entries make the table and the arena grow, and removals make the arena
// compact; names are any bytes (not UTF-8), 1 to 255 of them, many equal across directories.
type NameOp =
  | { op: 'add'; dir: number; name: Uint8Array; isDir: boolean }
  | { op: 'remove'; dir: number; pick: number }
  | { op: 'probe'; dir: number; name: Uint8Array }
  | { op: 'check' };

const shortName = fc.uint8Array({ minLength: 1, maxLength: 3 }).map((a) => a.map((b) => 0x61 + (b % 4)));
const anyName = fc.oneof(shortName, fc.uint8Array({ minLength: 1, maxLength: 255 }), fc.uint8Array({ minLength: 250, maxLength: 255 }));
const nameOpArb: fc.Arbitrary<NameOp> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('add' as const), dir: fc.nat(1000), name: anyName, isDir: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('remove' as const), dir: fc.nat(1000), pick: fc.nat(1_000_000) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('probe' as const), dir: fc.nat(1000), name: anyName }) },
  { weight: 1, arbitrary: fc.constant({ op: 'check' as const }) },
);

describe('TreeModel name index', () => {
  it('finds every entry by (directory, name) and no removed one, through collisions, growth and compaction', () => {
    fc.assert(
      fc.property(fc.array(nameOpArb, { minLength: 200, maxLength: 3000, size: 'max' }), fc.constantFrom(0, 3, -1), (ops, hashMask) => {
        const model = new TreeModel(HOUR, { hashMask });
        const st = (kind: Kind.File | Kind.Dir, ino: number): EntryStat => ({ kind, size: kind === Kind.Dir ? 4096 : ino % 100, mtimeMs: 0, dev: 7, ino, nlink: 1 });
        const root = model.addRoot(Buffer.from('/some/root'), st(Kind.Dir, 1));
        // Reference: directory index → (latin1 key → { index, isDir }).
        const ref = new Map<number, Map<string, { i: number; isDir: boolean }>>([[root, new Map()]]);
        let ino = 10;
        const dirOf = (n: number): number => [...ref.keys()][n % ref.size] as number;
        const dropSubtree = (d: number): void => {
          const kids = ref.get(d);
          ref.delete(d);
          for (const k of kids?.values() ?? []) if (k.isDir) dropSubtree(k.i);
        };
        const check = (): void => {
          let n = 1;
          for (const [d, kids] of ref) {
            n += kids.size;
            assert.deepEqual(new Set(model.childNames(d)), new Set(kids.keys()), `children of ${d}`);
            for (const [key, k] of kids) {
              assert.equal(model.lookup(d, key), k.i, 'by key');
              assert.equal(model.lookup(d, Buffer.from(key, 'latin1')), k.i, 'by bytes');
              assert.equal(model.keyOf(k.i), key);
              assert.equal(model.isDir(k.i), k.isDir);
              if (k.isDir) assert.deepEqual(model.dirName(k.i), Buffer.from(key, 'latin1'));
            }
          }
          assert.equal(model.entries, n, 'entries');
        };
        for (const o of ops) {
          if (o.op === 'add') {
            const d = dirOf(o.dir);
            const key = Buffer.from(o.name).toString('latin1');
            const kids = ref.get(d) as Map<string, { i: number; isDir: boolean }>;
            const old = kids.get(key);
            if (old?.isDir) dropSubtree(old.i);
            const i = model.add(d, Buffer.from(o.name), st(o.isDir ? Kind.Dir : Kind.File, ino++), true);
            kids.set(key, { i, isDir: o.isDir });
            if (o.isDir) ref.set(i, new Map());
          } else if (o.op === 'remove') {
            const d = dirOf(o.dir);
            const kids = ref.get(d) as Map<string, { i: number; isDir: boolean }>;
            if (kids.size === 0) continue;
            const key = [...kids.keys()][o.pick % kids.size] as string;
            const k = kids.get(key) as { i: number; isDir: boolean };
            const removed = model.remove(d, o.pick % 2 === 0 ? key : Buffer.from(key, 'latin1'));
            kids.delete(key);
            if (k.isDir) {
              assert.ok(removed.includes(k.i), 'the removed directory is reported');
              dropSubtree(k.i);
            }
            assert.equal(model.lookup(d, key), undefined, 'gone');
          } else if (o.op === 'probe') {
            const d = dirOf(o.dir);
            const key = Buffer.from(o.name).toString('latin1');
            assert.equal(model.lookup(d, Buffer.from(o.name)), ref.get(d)?.get(key)?.i);
          } else check();
        }
        check();
      }),
      fuzzParams(150),
    );
  });

  it('holds many entries with long names, and rejects a name longer than NAME_MAX', () => {
    const model = new TreeModel(HOUR);
    const st: EntryStat = { kind: Kind.File, size: 1, mtimeMs: 0, dev: 1, ino: 0, nlink: 1 };
    const root = model.addRoot(Buffer.from('/r'), { ...st, kind: Kind.Dir });
    const name = (k: number): Buffer => Buffer.concat([Buffer.alloc(240, 0xfe), Buffer.from(String(k).padStart(8, '0'))]);
    for (let k = 0; k < 20_000; k++) model.add(root, name(k), { ...st, ino: k + 2 });
    for (let k = 0; k < 20_000; k += 2) model.remove(root, name(k));
    for (let k = 20_000; k < 30_000; k++) model.add(root, name(k), { ...st, ino: k + 2 });
    for (let k = 0; k < 30_000; k++) assert.equal(model.lookup(root, name(k)) !== undefined, k % 2 === 1 || k >= 20_000, String(k));
    assert.equal(model.entries, 20_001);
    assert.equal(model.bytes, 20_000 + 1);
    assert.throws(() => model.add(root, Buffer.alloc(256, 0x41), st), RangeError);
  });
});
