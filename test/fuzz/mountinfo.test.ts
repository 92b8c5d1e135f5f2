// Fuzz target for parseMountinfo: random text and mutations of this machine's mount tables.
// Every mount it returns has a major:minor device and an absolute mountpoint; it never throws.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { devName, MAX_LINES, parseMountinfo } from '../../src/sources/mountinfo.js';
import { fuzzParams } from '../helpers/fuzz.js';

const REAL = [readFileSync('/proc/self/mountinfo', 'latin1'), readFileSync('/proc/1/mountinfo', 'latin1')];

function mutated(seed: string): fc.Arbitrary<string> {
  return fc
    .array(fc.tuple(fc.nat(seed.length), fc.string({ minLength: 0, maxLength: 12 }), fc.nat(12)), { minLength: 1, maxLength: 8 })
    .map((ops) => ops.reduce((s, [at, text, del]) => s.slice(0, at) + text + s.slice(at + del), seed));
}

describe('fuzz: mountinfo', () => {
  it('reads every line of the real tables', () => {
    for (const t of REAL) assert.equal(parseMountinfo(t).length, t.trim().split('\n').length);
  });

  it('gives only well-formed mounts on any text', () => {
    const text = fc.oneof(fc.string({ maxLength: 300 }), ...REAL.map(mutated));
    fc.assert(
      fc.property(text, (t) => {
        for (const m of parseMountinfo(t)) {
          assert.match(m.dev, /^\d+:\d+$/);
          assert.ok(m.mountpoint.startsWith('/'));
        }
      }),
      fuzzParams(3000),
    );
  });

  it('looks at no more than MAX_LINES lines', () => {
    const line = '36 35 98:0 / /mnt rw - ext4 /dev/sda rw\n';
    assert.equal(parseMountinfo(line.repeat(MAX_LINES + 10)).length, MAX_LINES);
  });

  it('decodes device numbers as glibc does', () => {
    assert.equal(devName(0x0801), '8:1');
    assert.equal(devName((259 << 8) | 3), '259:3');
    // glibc's makedev: major's low 12 bits at 8, the rest at 32; minor's low 8 bits at 0, the rest at 12.
    const makedev = (major: bigint, minor: bigint): number =>
      Number(((major & 0xfffn) << 8n) | ((major & ~0xfffn) << 32n) | (minor & 0xffn) | ((minor & ~0xffn) << 12n));
    assert.equal(devName(makedev(4096n, 300n)), '4096:300');
    assert.equal(devName(makedev(253n, 70000n)), '253:70000');
  });
});
