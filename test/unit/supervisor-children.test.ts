// The background poll's cheap check: supervisord's children file lists every quiet pid.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { childrenInclude } from '../../src/collectors/process-list-reuse.js';
import { ProcReader } from '../../src/sources/proc-tree.js';
import { fuzzParams } from '../helpers/fuzz.js';

describe('childrenInclude', () => {
  it('is true when every pid is listed, false when one is missing, whatever the order', () => {
    assert.equal(childrenInclude('17658 17659 17660 ', new Set([17660, 17658])), true);
    assert.equal(childrenInclude('17658 17659 17660 ', new Set([17661])), false);
    assert.equal(childrenInclude('', new Set()), true);
    assert.equal(childrenInclude('', new Set([1])), false);
    // A pid is a whole number: 1765 is not in 17658.
    assert.equal(childrenInclude('17658 ', new Set([1765])), false);
    assert.equal(childrenInclude('17658', new Set([17658])), true);
  });

  it('agrees with a parse of the list for any text', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(5000), { maxLength: 50 }), fc.array(fc.nat(5000), { maxLength: 10 }), fc.string({ maxLength: 3 }), (listed, asked, junk) => {
        const text = listed.join(' ') + ' ' + junk.replace(/[0-9]/g, '');
        const want = asked.every((p) => listed.includes(p));
        assert.equal(childrenInclude(text, new Set(asked)), want);
      }),
      fuzzParams(2000),
    );
  });

  it("reads this kernel's children file, whole, as the list of a process's children", async () => {
    // More children than one page of the file holds (the kernel hands it over a page per read):
    // 1,000 pids of four digits or more and their separators are over 4 KiB.
    const kids = Array.from({ length: 1000 }, () => spawn('sleep', ['30'], { stdio: 'ignore' }));
    try {
      const text = new ProcReader().childrenText(process.pid);
      assert.ok(text.length > 4096, `${text.length} bytes`);
      assert.equal(childrenInclude(text, new Set(kids.map((k) => k.pid as number))), true, text);
      assert.equal(childrenInclude(text, new Set([process.pid])), false);
    } finally {
      for (const k of kids) k.kill();
    }
  });
});
