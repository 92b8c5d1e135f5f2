// displayName (src/sources/byte-names.ts), as the walk uses it for names in log lines: valid
// UTF-8 is kept, every other byte escaped, and no two names ever share a display.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { displayName } from '../../src/sources/byte-names.js';
import { fuzzParams } from '../helpers/fuzz.js';

describe('displayName', () => {
  it('escapes what is not UTF-8 and the backslash, keeps the rest', () => {
    assert.equal(displayName(Buffer.from([0xff, 0xfe])), '\\xff\\xfe');
    assert.equal(displayName(Buffer.from('caf\xe9', 'latin1')), 'caf\\xe9');
    assert.equal(displayName(Buffer.from('x\\xff')), 'x\\\\xff');
    assert.equal(displayName(Buffer.from('ünïcødé')), 'ünïcødé');
    // U+FFFD itself is escaped too: it is what a decoder puts for bytes that are not UTF-8.
    assert.equal(displayName(Buffer.from('a\ufffd')), 'a\\xef\\xbf\\xbd');
    assert.equal(displayName(Buffer.from([0xed, 0xa0, 0x80])), '\\xed\\xa0\\x80'); // a UTF-16 surrogate: not UTF-8
  });

  it('valid UTF-8 without a backslash or U+FFFD is shown as it is', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }).filter((s) => !s.includes('\\') && !s.includes('\ufffd')), (s) => assert.equal(displayName(Buffer.from(s)), s)), fuzzParams(2000));
  });

  it('two different names never share a display', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), fc.uint8Array({ maxLength: 12 }), (a, b) => {
        if (Buffer.compare(Buffer.from(a), Buffer.from(b)) !== 0) assert.notEqual(displayName(Buffer.from(a)), displayName(Buffer.from(b)));
      }),
      fuzzParams(3000),
    );
  });
});
