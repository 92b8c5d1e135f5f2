// Fuzz targets for the per-process /proc parsers of the service depth figures: random text
// and mutations of this machine's real io, status, limits and smaps_rollup files. Each parser
// returns a reading of finite, non-negative numbers or undefined, and never throws.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  isDeletedFileLink,
  parseContextSwitches,
  parseNofileSoftLimit,
  parseProcIo,
  parseSmapsRollup,
} from '../../src/sources/proc-depth-parse.js';
import { fuzzParams } from '../helpers/fuzz.js';

const real = (file: string): string => readFileSync(`/proc/self/${file}`, 'latin1');
const SEEDS = { io: real('io'), status: real('status'), limits: real('limits'), smaps_rollup: real('smaps_rollup') };

/** A real file with bytes replaced, inserted, removed or a cut at a random place. */
function mutated(seed: string): fc.Arbitrary<string> {
  return fc
    .array(
      fc.tuple(fc.nat(seed.length), fc.constantFrom('replace', 'insert', 'delete', 'cut'), fc.string({ minLength: 1, maxLength: 8 })),
      { minLength: 1, maxLength: 6 },
    )
    .map((ops) => {
      let s = seed;
      for (const [at, op, text] of ops) {
        const i = Math.min(at, s.length);
        if (op === 'replace') s = s.slice(0, i) + text + s.slice(i + text.length);
        else if (op === 'insert') s = s.slice(0, i) + text + s.slice(i);
        else if (op === 'delete') s = s.slice(0, i) + s.slice(i + text.length);
        else s = s.slice(0, i);
      }
      return s;
    });
}

function sane(v: unknown): void {
  if (v === undefined) return;
  for (const n of Object.values(v as Record<string, number>)) assert.ok(Number.isFinite(n) && n >= 0, String(n));
}

describe('fuzz: /proc depth parsers', () => {
  it('read the real files', () => {
    assert.ok(parseProcIo(SEEDS.io));
    assert.ok(parseContextSwitches(SEEDS.status));
    assert.ok((parseNofileSoftLimit(SEEDS.limits) ?? 0) > 0);
    assert.ok(parseSmapsRollup(SEEDS.smaps_rollup));
  });

  it('io, status and smaps_rollup: a sane reading or undefined on any text', () => {
    const text = fc.oneof(fc.string({ maxLength: 400 }), mutated(SEEDS.io), mutated(SEEDS.status), mutated(SEEDS.smaps_rollup));
    fc.assert(
      fc.property(text, (t) => {
        sane(parseProcIo(t));
        sane(parseContextSwitches(t));
        sane(parseSmapsRollup(t));
      }),
      fuzzParams(3000),
    );
  });

  it('limits: a positive limit, Infinity or undefined on any text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 400 }), mutated(SEEDS.limits)), (t) => {
        const v = parseNofileSoftLimit(t);
        assert.ok(v === undefined || v === Infinity || (Number.isInteger(v) && v >= 0));
      }),
      fuzzParams(3000),
    );
  });

  it('a huge text is read no further than its first part', () => {
    const huge = 'x'.repeat(8 << 20) + '\nread_bytes: 1\nwrite_bytes: 2\n';
    assert.equal(parseProcIo(huge), undefined);
    assert.equal(parseProcIo('rchar: 9\nread_bytes: 1\nwrite_bytes: 2\n')?.writeBytes, 2);
  });

  it('deleted-file links: only absolute paths marked deleted, never memfd', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (t) => {
        if (isDeletedFileLink(t)) assert.ok(t.startsWith('/') && t.endsWith(' (deleted)') && !t.startsWith('/memfd:'));
      }),
      fuzzParams(3000),
    );
    assert.equal(isDeletedFileLink('/srv/logs/a.log (deleted)'), true);
    assert.equal(isDeletedFileLink('/memfd:jit (deleted)'), false);
    assert.equal(isDeletedFileLink('socket:[12]'), false);
    assert.equal(isDeletedFileLink('/srv/logs/a.log'), false);
  });
});

describe('fuzz: getAllConfigInfo answers', () => {
  it('give rotation settings only from well-typed entries, on any answer', async () => {
    const { parseRotation } = await import('../../src/collectors/service-log-info.js');
    const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, fc.integer(), fc.double(), fc.string({ maxLength: 12 }), fc.constant(null), fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.constantFrom('group', 'name', 'stdout_logfile_maxbytes', 'stdout_logfile_backups', 'stderr_logfile_maxbytes', 'x'), tie('v'), { maxKeys: 6 })),
    })).v;
    fc.assert(
      fc.property(value, (v) => {
        for (const r of parseRotation(v as never).values()) {
          for (const s of [r.stdout, r.stderr]) {
            if (s) assert.ok(Number.isFinite(s.maxBytes) && s.maxBytes >= 0 && Number.isFinite(s.backups) && s.backups >= 0);
          }
        }
      }),
      fuzzParams(2000),
    );
    const real = parseRotation([{ group: 'g', name: 'n', stdout_logfile_maxbytes: 4096, stdout_logfile_backups: 3, stderr_logfile_maxbytes: 0, stderr_logfile_backups: 0 }]);
    assert.deepEqual(real.get('g\u0000n'), { stdout: { maxBytes: 4096, backups: 3 }, stderr: { maxBytes: 0, backups: 0 } });
  });
});
