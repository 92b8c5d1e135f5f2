// The tree model's narrow columns: values read back as written whatever their width, the
// high words and wider indexes appear only when a value needs them, and a model spread over
// more devices than a byte can index still counts each inode once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { IndexColumn, U64Column } from '../../src/sources/watch/columns.js';
import { Kind, TreeModel } from '../../src/sources/watch/tree-model.js';
import { fuzzParams } from '../helpers/fuzz.js';

// Integral doubles below 2^64: small, around 2^32, up to 2^53, and past it (where only some are integers).
const u64 = fc.oneof(
  fc.nat(1000),
  fc.integer({ min: 2 ** 32 - 2, max: 2 ** 32 + 2 }),
  fc.maxSafeNat(),
  fc.double({ min: 2 ** 53, max: 2 ** 64, noNaN: true, noDefaultInfinity: true }).filter((v) => v < 2 ** 64),
);

describe('U64Column', () => {
  it('reads back every value written, through growth, and holds a high word only once one is needed', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(300), u64), { maxLength: 200 }), (writes) => {
        const col = new U64Column(4);
        let cap = 4;
        const ref = new Map<number, number>();
        let wide = false;
        for (const [i, v] of writes) {
          while (i >= cap) col.grow((cap *= 2));
          col.set(i, v);
          ref.set(i, v);
          wide ||= v >= 2 ** 32;
          assert.equal(col.byteLength, cap * (wide ? 8 : 4));
        }
        for (const [i, v] of ref) assert.equal(col.get(i), v, `entry ${i}`);
      }),
      fuzzParams(500),
    );
  });

  it('refuses what is not an integer from 0 to 2^64', () => {
    const col = new U64Column(1);
    for (const v of [-1, 0.5, 2 ** 64, Number.NaN, Infinity]) assert.throws(() => col.set(0, v), RangeError, String(v));
  });
});

describe('IndexColumn', () => {
  it('widens from one byte to two to four as values need, keeping what was written', () => {
    const col = new IndexColumn(8);
    col.set(0, 200);
    assert.equal(col.byteLength, 8);
    col.set(1, 300);
    assert.equal(col.byteLength, 16);
    col.grow(16);
    col.set(9, 70_000);
    assert.equal(col.byteLength, 64);
    assert.deepEqual([col.get(0), col.get(1), col.get(9)], [200, 300, 70_000]);
  });
});

describe('TreeModel columns', () => {
  it('counts bytes per inode across 70,000 devices, large sizes and inode numbers past 2^32', () => {
    const model = new TreeModel(0);
    const root = model.addRoot(Buffer.from('/r'), { kind: Kind.Dir, size: 4096, mtimeMs: 0, dev: 1, ino: 2, nlink: 2 });
    let bytes = 4096;
    const big = 2 ** 33 + 5;
    for (let d = 0; d < 70_000; d++) {
      // Two links of one inode on each device: counted once. Inode numbers repeat across devices.
      const st = { kind: Kind.File as const, size: d === 69_999 ? big : d, mtimeMs: 0, dev: 1000 + d, ino: 2 ** 40 + 7, nlink: 2 };
      model.add(root, Buffer.from(`a${d}`), st);
      model.add(root, Buffer.from(`b${d}`), st);
      bytes += st.size;
    }
    assert.equal(model.bytes, bytes);
    assert.equal(model.files, 140_000);
    const last = model.lookup(root, 'a69999') as number;
    assert.ok(model.same(last, { kind: Kind.File, size: big, mtimeMs: 0, dev: 1000 + 69_999, ino: 2 ** 40 + 7, nlink: 2 }));
    assert.ok(!model.same(last, { kind: Kind.File, size: big, mtimeMs: 0, dev: 1000, ino: 2 ** 40 + 7, nlink: 2 }));
    model.remove(root, 'a69999');
    assert.equal(model.bytes, bytes, 'the other link still holds the inode');
    model.remove(root, 'b69999');
    assert.equal(model.bytes, bytes - big);
  });
});
