// Fuzz target: the TCP-table readers (tcp-table.ts): sockstat parsing on this machine's real
// sockstat files, intact and mutated, and random text; the skip rules on any counts (a family
// is skipped only when the counts prove it empty); the table reader on files of any size.
// Nothing throws, no figure is negative or made up, and each run stays within its budget.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { endsTable, MAX_TABLE_BYTES, parseSockstat, readNetTable, sixIsEmpty, tablesToRead } from '../../src/sources/tcp-table.js';
import { fuzzParams, mutate, textEdit } from '../helpers/fuzz.js';
import { makeTmpDir, removeTmpDir } from '../helpers/tmp.js';

const BUDGET_MS = 500;
let slowest = 0;
after(() => process.stdout.write(`# tcp-table: slowest sockstat parse ${slowest.toFixed(2)} ms (budget ${BUDGET_MS} ms)\n`));
const tmp = makeTmpDir('hostaudit-fuzz-tcp-');
after(() => removeTmpDir(tmp));

const read = (f: string): string => {
  try {
    return readFileSync(f, 'latin1');
  } catch {
    return '';
  }
};
const sockstat = read('/proc/net/sockstat');
const sockstat6 = read('/proc/net/sockstat6');

const edit = textEdit({ maxLen: 30, text: fc.oneof(fc.constantFrom(' ', '\n', 'TCP: ', 'TCP6: ', 'inuse ', 'tw ', '-1', '99999999999999999999999', 'orphan '), fc.string({ maxLength: 10 })), kinds: ['delete', 'insert', 'replace', 'truncate'] });

function checkSockstat(a: string, b: string): void {
  const t0 = performance.now();
  const c = parseSockstat(a, b);
  const ms = performance.now() - t0;
  slowest = Math.max(slowest, ms);
  assert.ok(ms < BUDGET_MS);
  for (const v of [c.inuse4, c.inuse6, c.tw]) assert.ok(v === undefined || (Number.isInteger(v) && v >= 0) || v === Infinity, String(v));
  // Whatever was parsed, a table is skipped only when its counts prove it empty.
  const files = tablesToRead(c);
  if (!files.includes('tcp')) assert.ok(c.tw === 0 && c.inuse4 === 0);
  if (!files.includes('tcp6')) assert.ok(c.tw === 0 && c.inuse6 === 0);
}

const counts = fc.record({ inuse4: fc.option(fc.nat(), { nil: undefined }), inuse6: fc.option(fc.nat(), { nil: undefined }), tw: fc.option(fc.nat(), { nil: undefined }) }, { requiredKeys: [] });

describe('fuzz: TCP tables', () => {
  it("reads this machine's sockstat as its text says", () => {
    assert.match(sockstat, /^TCP: inuse \d+/m);
    const c = parseSockstat(sockstat, sockstat6);
    assert.equal(c.inuse4, Number(/^TCP: inuse (\d+)/m.exec(sockstat)?.[1]));
    assert.equal(c.tw, Number(/^TCP: .* tw (\d+)/m.exec(sockstat)?.[1]));
    if (sockstat6) assert.equal(c.inuse6, Number(/^TCP6: inuse (\d+)/m.exec(sockstat6)?.[1]));
  });

  it('survives mutated sockstat files and random text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(fc.array(edit, { minLength: 1, maxLength: 6 }), fc.array(edit, { maxLength: 3 })).map(([a, b]) => [mutate(sockstat, a), mutate(sockstat6, b)] as const),
          fc.tuple(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 100 })),
        ),
        ([a, b]) => checkSockstat(a, b),
      ),
      fuzzParams(3000),
    );
  });

  it('skips IPv6 only when every count proves it empty', () => {
    fc.assert(
      fc.property(counts, counts, fc.nat(), (before, afterCounts, tw4) => {
        if (sixIsEmpty(before, afterCounts, tw4)) {
          assert.equal(before.inuse6, 0);
          assert.equal(afterCounts.inuse6, 0);
          assert.equal(before.tw, tw4);
          assert.equal(afterCounts.tw, tw4);
        }
      }),
      fuzzParams(3000),
    );
  });

  it('decides the end of a table only from a short read', () => {
    fc.assert(
      fc.property(fc.nat(1 << 20), (n) => {
        if (endsTable(n)) assert.ok(n <= 4096 - 512);
      }),
      fuzzParams(1000),
    );
  });

  it('reads a table file of any size within its cap, and refuses one over it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(300_000), async (size) => {
        const f = path.join(tmp, 'table');
        writeFileSync(f, 'x'.repeat(size));
        // A regular file never gives a short read before its end: read to the end.
        assert.equal((await readNetTable(f))?.length, size);
      }),
      fuzzParams(100),
    );
    const big = path.join(tmp, 'big');
    writeFileSync(big, Buffer.alloc(MAX_TABLE_BYTES + 1, 'x'));
    assert.equal(await readNetTable(big), undefined);
    assert.equal(await readNetTable(path.join(tmp, 'missing')), undefined);
  });
});
