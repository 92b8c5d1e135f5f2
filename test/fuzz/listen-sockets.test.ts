// parseListenSockets reads /proc/PID/net/tcp{,6}, which the host writes: on random and mutated
// real tables it never throws, returns only well-formed LISTEN entries, and finds every LISTEN
// row of an unmutated table.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseListenSockets } from '../../src/init/listen-sockets.js';
import { fuzzParams } from '../helpers/fuzz.js';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const row = (i: number, port: number, st: string, inode: number): string =>
  `  ${i}: 0100007F:${port.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 ${st} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;

function realTables(): string[] {
  const out: string[] = [];
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      out.push(readFileSync(f, 'latin1'));
    } catch {
      // no IPv6
    }
  }
  return out;
}

function wellFormed(list: ReturnType<typeof parseListenSockets>): void {
  for (const s of list) {
    assert.ok(Number.isInteger(s.port) && s.port >= 0 && s.port <= 0xffff);
    assert.ok(Number.isSafeInteger(s.inode) || s.inode > 0);
  }
}

describe('parseListenSockets (fuzz)', () => {
  it('finds exactly the LISTEN rows of generated tables', () => {
    const rows = fc.array(fc.record({ port: fc.integer({ min: 0, max: 0xffff }), listen: fc.boolean(), inode: fc.integer({ min: 1, max: 2 ** 40 }) }), { maxLength: 50 });
    fc.assert(
      fc.property(rows, (rs) => {
        const text = HEADER + rs.map((r, i) => row(i, r.port, r.listen ? '0A' : '01', r.inode)).join('');
        assert.deepEqual(parseListenSockets(text), rs.filter((r) => r.listen).map((r) => ({ inode: r.inode, port: r.port })));
      }),
      fuzzParams(1000),
    );
  });

  it('never throws on random or mutated real tables', () => {
    const real = realTables();
    const mutated = fc
      .tuple(fc.constantFrom(...real), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 8 }), fc.string({ maxLength: 6 })), { maxLength: 20 }))
      .map(([t, edits]) => edits.reduce((s, [at, del, ins]) => s.slice(0, at % (s.length + 1)) + ins + s.slice((at % (s.length + 1)) + del), t));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 2000 }), fc.string({ unit: fc.constantFrom(' ', ':', '0', 'A', '\n', 'F', '1') , maxLength: 2000 }), mutated), (text) => {
        wellFormed(parseListenSockets(text));
      }),
      fuzzParams(2000),
    );
  });

  it('reads every LISTEN row of this machine\'s tables as splitting them does', () => {
    for (const t of realTables()) {
      const expected = t
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(/ +/))
        .filter((c) => c[3] === '0A')
        .map((c) => ({ inode: Number(c[9]), port: parseInt((c[1] as string).split(':').pop() as string, 16) }));
      assert.deepEqual(parseListenSockets(t), expected);
    }
  });

  it('bounds the rows it reads', () => {
    const huge = HEADER + row(0, 80, '0A', 7).repeat(150_000);
    assert.equal(parseListenSockets(huge).length, 100_000);
  });
});
