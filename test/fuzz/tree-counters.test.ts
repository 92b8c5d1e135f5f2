// TreeCounter against the plain form it replaced (a new Map of new entries every update):
// random sequences of trees (pids reused with new start times, processes re-parented, zombies,
// pids twice in one sample list, restarts) give the same total at every update.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TreeCounter, TreeRows, type CounterSample, type PidFate } from '../../src/collectors/tree-counters.js';
import { fuzzParams } from '../helpers/fuzz.js';

/** The reference: TreeCounter.update as first written. */
class Reference {
  private identity = '';
  private seen = new Map<number, { ppid: number; start: number; value: number }>();
  private kept = 0;
  private high = 0;
  constructor(private readonly foldsIntoParent: boolean) {}

  update(identity: string, samples: readonly CounterSample[], fate: (pid: number, start: number) => PidFate): number {
    if (identity !== this.identity) {
      this.identity = identity;
      this.seen = new Map();
      this.kept = 0;
      this.high = 0;
    }
    const now = new Map<number, { ppid: number; start: number; value: number }>();
    let sum = 0;
    for (const s of samples) {
      now.set(s.pid, { ppid: s.ppid, start: s.start, value: s.value });
      sum += s.value;
    }
    const carried: Array<[number, { ppid: number; start: number; value: number }]> = [];
    for (const [pid, prev] of this.seen) {
      const cur = now.get(pid);
      if (cur && cur.start === prev.start) continue;
      const f = fate(pid, prev.start);
      if (f === 'zombie' && now.has(prev.ppid)) {
        carried.push([pid, prev]);
        continue;
      }
      const reapedByTree = f === 'gone' && now.has(prev.ppid);
      if (!(this.foldsIntoParent && reapedByTree)) this.kept += prev.value;
    }
    for (const [pid, prev] of carried) now.set(pid, prev);
    this.seen = now;
    this.high = Math.max(this.high, sum + this.kept);
    return this.high;
  }
}

const FATES: readonly PidFate[] = ['gone', 'zombie', 'alive'];

const stepArb = fc.record({
  identity: fc.constantFrom('a', 'a', 'a', 'a', 'b'),
  samples: fc.array(
    fc.record({ pid: fc.integer({ min: 1, max: 8 }), ppid: fc.integer({ min: 0, max: 8 }), start: fc.integer({ min: 1, max: 3 }), value: fc.nat(1_000_000) }),
    { maxLength: 10 },
  ),
  // What /proc says of each (pid, start) not sampled: index into FATES by pid and start.
  fates: fc.array(fc.nat(2), { minLength: 27, maxLength: 27 }),
});

describe('TreeCounter', () => {
  for (const folds of [true, false]) {
    it(`gives the reference's total at every update (foldsIntoParent ${folds}), by samples and by rows`, () => {
      fc.assert(
        fc.property(fc.array(stepArb, { maxLength: 30 }), (steps) => {
          const ref = new Reference(folds);
          const bySamples = new TreeCounter(folds);
          const byRows = new TreeCounter(folds);
          const rows = new TreeRows();
          let values = new Float64Array(0);
          for (const st of steps) {
            const fate = (pid: number, start: number): PidFate => FATES[st.fates[(pid % 9) * 3 + (start % 3)] as number] as PidFate;
            const want = ref.update(st.identity, st.samples, fate);
            assert.equal(bySamples.update(st.identity, st.samples, fate), want);
            // Rows with a NaN value are not samples: interleave some.
            rows.reset(st.samples.length * 2);
            values = new Float64Array(st.samples.length * 2);
            let n = 0;
            for (const s of st.samples) {
              if (s.value % 3 === 0) {
                rows.push(s.ppid + 20, s.pid, s.start);
                values[n++] = NaN;
              }
              rows.push(s.pid, s.ppid, s.start);
              values[n++] = s.value;
            }
            assert.equal(byRows.updateRows(st.identity, rows, values, fate), want);
          }
        }),
        fuzzParams(2000),
      );
    });
  }
});
