// The event-loop lag gauges against prom-client's own (the definitions they replace) and
// against Node's histogram (the readings, with and without samples in the interval).
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { EventLoopLag, LAG_GAUGES, LAG_SECONDS } from '../../src/http/event-loop-lag.js';
import { SelfMetrics } from '../../src/http/exposition.js';

const NAMES = [LAG_SECONDS, ...LAG_GAUGES.map(([n]) => n)];

async function values(reg: Registry): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const m of await reg.getMetricsAsJSON()) {
    const v = m.values[0];
    if (NAMES.includes(m.name) && v) out.set(m.name, v.value);
  }
  return out;
}

/** prom-client's defaults with their lag gauges replaced, sampling every `resolutionMs`. */
function registry(resolutionMs: number): Registry {
  const reg = new Registry();
  collectDefaultMetrics({ register: reg, eventLoopMonitoringPrecision: 3_600_000 });
  new EventLoopLag(reg, resolutionMs);
  return reg;
}

describe('event-loop lag gauges', () => {
  it('are the gauges prom-client defines: names, help, type and aggregator', async () => {
    const theirs = new Registry();
    collectDefaultMetrics({ register: theirs });
    const ours = new SelfMetrics('test').registry;
    for (const name of NAMES) {
      const a = (await theirs.getSingleMetric(name)?.get()) as { help: string; type: string; aggregator: string } | undefined;
      const b = (await ours.getSingleMetric(name)?.get()) as { help: string; type: string; aggregator: string } | undefined;
      assert.ok(a && b, name);
      assert.deepEqual({ help: b.help, type: b.type, aggregator: b.aggregator }, { help: a.help, type: a.type, aggregator: a.aggregator }, name);
    }
    assert.equal((await ours.getMetricsAsJSON()).filter((m) => NAMES.includes(m.name)).length, NAMES.length, 'each once');
    // Where prom-client had them, so its collect runs before the gauges after it are read.
    const order = (r: Registry): string[] => r.getMetricsAsArray().map((m) => m.name).filter((n) => !n.startsWith('hostaudit_') && !n.startsWith('nodejs_active_'));
    assert.deepEqual(order(ours), order(theirs));
  });

  it('with no sample in the interval, reports what an empty histogram of Node reports', async () => {
    const reg = registry(60_000); // no sample within the test
    const empty = monitorEventLoopDelay({ resolution: 60_000 });
    empty.enable();
    empty.reset();
    const want = [empty.min, empty.max, empty.mean, empty.stddev, empty.percentile(50), empty.percentile(90), empty.percentile(99)];
    empty.disable();
    for (let round = 0; round < 2; round++) {
      const v = await values(reg);
      LAG_GAUGES.forEach(([name], i) => assert.deepEqual(v.get(name), (want[i] as number) / 1e9, `${name}, round ${round}`));
    }
  });

  it('with samples, reports the histogram of the interval, and resets it', async () => {
    const reg = registry(10);
    await new Promise((r) => setTimeout(r, 300));
    // One delay of 200 ms: far above what a loaded machine adds between two reads below.
    const block = Date.now() + 200;
    while (Date.now() < block);
    await new Promise((r) => setTimeout(r, 50));
    const v = await values(reg);
    const [min, max, mean, stddev, p50, p90, p99] = LAG_GAUGES.map(([n]) => v.get(n) as number);
    for (const x of [min, max, mean, stddev, p50, p90, p99]) assert.ok(Number.isFinite(x), `finite: ${[...v].join(' ')}`);
    assert.ok((max as number) >= 0.19, `the 200 ms block is the max: ${max}`);
    assert.ok((stddev as number) > 0, 'samples spread');
    assert.ok((min as number) <= (p50 as number) && (p50 as number) <= (p99 as number) && (p99 as number) <= (max as number));
    // The interval starts again: a scrape right after sees no sample of the block.
    const next = await values(reg);
    assert.ok((next.get('nodejs_eventloop_lag_max_seconds') as number) < 0.19, 'reset after the scrape');
    // nodejs_eventloop_lag_seconds is the time to the loop's next turn, set after the scrape.
    assert.ok((next.get(LAG_SECONDS) as number) >= 0);
  });
});
