// Fuzz target: the /proc parsers (proc-parse.ts) on this machine's real /proc files, intact
// and mutated, and on random text. Intact files must give the figures a plain split-based
// reading gives; anything else may be refused (undefined, a skipped row) but never throw,
// never yield a negative or non-finite figure, and each run stays within its budget.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { parseProcNetTcp, parseProcStat, socketInode, TCP_STATES } from '../../src/sources/proc-parse.js';
import { fuzzParams, mutate, textEdit } from '../helpers/fuzz.js';

/** Wall time allowed per parse on a loaded machine: the parsers are linear, inputs < 100 kB. */
const BUDGET_MS = 500;
let slowest = 0;
after(() => process.stdout.write(`# proc-parse: slowest run ${slowest.toFixed(2)} ms (budget ${BUDGET_MS} ms)\n`));

function readAll(files: string[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    try {
      out.push(readFileSync(f, 'latin1'));
    } catch {
      // the process exited meanwhile
    }
  }
  return out;
}

const pids = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
const stats = readAll(['/proc/self/stat', ...pids.map((p) => `/proc/${p}/stat`), ...pids.map((p) => `/proc/${p}/task/${p}/stat`)]);
const tcpTables = readAll(['/proc/net/tcp', '/proc/net/tcp6', '/proc/self/net/tcp', '/proc/self/net/tcp6']).filter((t) => t.length > 0);
/** Real fd link targets of a few processes (sockets, pipes, files, anon inodes). */
const fdLinks = pids.slice(0, 50).flatMap((p) => {
  try {
    return readdirSync(`/proc/${p}/fd`).flatMap((fd) => {
      try {
        return [readlinkSync(`/proc/${p}/fd/${fd}`)];
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
});

/** stat fields the plain way: split after the last ')'. */
function referenceStat(text: string): Record<string, number | string> {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const f = ['', '', ...text.slice(close + 2).trim().split(' ')];
  const n = (i: number): number => Number(f[i]);
  return {
    pid: Number(text.slice(0, open)),
    comm: text.slice(open + 1, close),
    state: f[2] as string,
    ppid: n(3),
    majflt: n(11),
    cmajflt: n(12),
    utime: n(13),
    stime: n(14),
    cutime: n(15),
    cstime: n(16),
    threads: n(19),
    starttime: n(21),
    vsizeBytes: n(22),
    rssPages: n(23),
  };
}

const edit = textEdit({ maxLen: 40, text: fc.oneof(fc.constantFrom(' ', '  ', '\n', '(', ')', ') ', '-', '-1', '0x1f', '1e3', '99999999999999999999', 'NaN', '\u0000', 'Z', ':', '[', ']'), fc.string({ maxLength: 12 })) });

function timed<T>(what: string, fn: () => T): T {
  const t0 = performance.now();
  const r = fn();
  const ms = performance.now() - t0;
  slowest = Math.max(slowest, ms);
  assert.ok(ms < BUDGET_MS, `${what} took ${ms.toFixed(0)} ms`);
  return r;
}

function checkStat(text: string): void {
  const s = timed('parseProcStat', () => parseProcStat(text));
  if (s === undefined) return;
  for (const k of ['pid', 'ppid', 'utime', 'stime', 'cutime', 'cstime', 'threads', 'starttime', 'vsizeBytes', 'rssPages'] as const) {
    assert.ok(Number.isFinite(s[k]) && s[k] >= 0, `${k} = ${s[k]}`);
  }
  assert.ok(Number.isInteger(s.pid));
  assert.equal(typeof s.comm, 'string');
}

const VALID_STATES = new Set([...Object.values(TCP_STATES), 'unknown']);
function checkTcp(text: string): void {
  const rows = timed('parseProcNetTcp', () => parseProcNetTcp(text));
  assert.ok(rows.length <= text.split('\n').length);
  for (const r of rows) {
    assert.ok(VALID_STATES.has(r.state), r.state);
    assert.ok(Number.isFinite(r.inode) && r.inode >= 0 && Number.isInteger(r.inode), String(r.inode));
  }
}

describe('fuzz: /proc parsers', () => {
  it('reads every real stat file of this machine as a plain split does', () => {
    assert.ok(stats.length > 10, `${stats.length} stat files`);
    for (const t of stats) assert.deepEqual(parseProcStat(t), referenceStat(t), t);
  });

  it('reads the real TCP tables as a plain split does', () => {
    assert.ok(tcpTables.length >= 1);
    for (const t of tcpTables) {
      const rows = t.split('\n').slice(1).filter((l) => l.trim() !== '');
      const expected = rows.map((l) => {
        const c = l.trim().split(/\s+/);
        return { state: TCP_STATES[parseInt(c[3] as string, 16)] ?? 'unknown', inode: Number(c[9]) };
      });
      assert.deepEqual(parseProcNetTcp(t), expected);
    }
  });

  it('survives mutated stat files', () => {
    fc.assert(fc.property(fc.constantFrom(...stats), fc.array(edit, { minLength: 1, maxLength: 6 }), (t, e) => checkStat(mutate(t, e))), fuzzParams(4000));
  });

  it('survives mutated TCP tables', () => {
    fc.assert(fc.property(fc.constantFrom(...tcpTables), fc.array(edit, { minLength: 1, maxLength: 6 }), (t, e) => checkTcp(mutate(t, e))), fuzzParams(3000));
  });

  it('survives random text in every parser', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 400 })), (t) => {
        checkStat(t);
        checkTcp(t);
        const inode = timed('socketInode', () => socketInode(t));
        assert.ok(inode === undefined || (Number.isInteger(inode) && inode >= 0));
      }),
      fuzzParams(3000),
    );
  });

  it('reads socket links and refuses everything else', () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat().map((n) => `socket:[${n}]`), fc.constantFrom(...(fdLinks.length > 0 ? fdLinks : ['socket:[1]'])), fc.string()), (link) => {
        const m = /^socket:\[(\d+)\]$/.exec(link);
        assert.equal(socketInode(link), m ? Number(m[1]) : undefined);
      }),
      fuzzParams(2000),
    );
  });

  it('keeps the inputs that once failed as regressions', () => {
    const base = stats[0] as string;
    const close = base.lastIndexOf(')');
    const f = base.slice(close + 2).split(' ');
    // starttime (field 22) malformed: was returned as NaN.
    const badStart = [...f];
    badStart[19] = 'x';
    assert.equal(parseProcStat(base.slice(0, close + 2) + badStart.join(' ')), undefined);
    // A negative utime (field 14): was returned, a CPU counter going backwards.
    const negative = [...f];
    negative[11] = '-5';
    assert.equal(parseProcStat(base.slice(0, close + 2) + negative.join(' ')), undefined);
    // No pid, or a pid Number() reads as hex or exponent: was pid 0, 31, 1000.
    for (const head of ['', '0x1f ', '1e3 ']) assert.equal(parseProcStat(head + base.slice(base.indexOf('('))), undefined);
  });
});
