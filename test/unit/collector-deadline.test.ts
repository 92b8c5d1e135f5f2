// A collector's deadline really ends its work: CollectorRunner aborts the signal it passed
// down, a collector that reads /proc in WorkSlicer slices stops at its next slice, and the
// event loop is served between slices meanwhile.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Collector } from '../../src/collectors/collector.js';
import { WorkSlicer } from '../../src/sources/work-slicer.js';
import { CollectorRunner } from '../../src/collectors/run-collectors.js';
import { Logger } from '../../src/log.js';
import { ProcReader } from '../../src/sources/proc-tree.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Reads the process table again and again, in slices, until its signal stops it. */
class EndlessProcReader implements Collector {
  readonly name = 'endless';
  reads = 0;
  ended: unknown;
  private readonly proc = new ProcReader();
  async collect(ctx: { signal: AbortSignal }): Promise<never> {
    const slice = new WorkSlicer(ctx.signal, 5);
    try {
      for (;;) {
        await slice.next();
        this.proc.readProcessTable();
        this.reads++;
      }
    } catch (err) {
      this.ended = err;
      throw err;
    }
  }
}

describe('collector deadline', () => {
  it('stops a collector reading /proc past its deadline, and serves the event loop meanwhile', async () => {
    const lines: string[] = [];
    const log = new Logger('debug', 'logfmt', (l) => lines.push(l));
    const c = new EndlessProcReader();
    const runner = new CollectorRunner([c], 300, log);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const { families } = await runner.collect();
    clearInterval(ticker);
    const success = families.find((f) => f.name === 'hostaudit_collector_success');
    assert.deepEqual(success?.samples, [{ labels: { collector: 'endless' }, value: 0 }]);
    assert.ok(ticks > 3, `timers ran ${ticks} times during the collection`);
    // The work itself has ended, not only the race: no read after the abort's next slice.
    for (let i = 0; i < 100 && c.ended === undefined; i++) await sleep(20);
    assert.ok(c.ended instanceof Error && /timed out after 300ms/.test(c.ended.message), String(c.ended));
    const reads = c.reads;
    await sleep(200);
    assert.equal(c.reads, reads, 'no /proc read after the deadline');
    assert.ok(reads > 0);
    assert.ok(lines.some((l) => /msg="collector work ended" collector=endless/.test(l)), lines.join(''));
  });

  it('a slicer yields only once its slice is spent, and throws the abort reason', async () => {
    const ac = new AbortController();
    const s = new WorkSlicer(ac.signal, 10_000);
    let yielded = false;
    setImmediate(() => (yielded = true));
    await s.next();
    assert.equal(yielded, false, 'within its slice: no trip through the event loop');
    ac.abort(new Error('deadline'));
    await assert.rejects(s.next(), /deadline/);
  });
});
