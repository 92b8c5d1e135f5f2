// prom-client's nodejs_eventloop_lag_* gauges (same names, help, aggregators and readings),
// read from a delay histogram this object owns. Node's histogram walks all of its buckets
// for `stddev` and each `percentile`, empty or not, a cost every scrape paid; an interval
// that recorded no sample (scrapes closer together than the sampling period) now reuses the
// values an empty histogram gives, taken from it once (docs/performance.md).
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Gauge, type Metric, type Registry } from 'prom-client';

/** The gauges prom-client's eventLoopLag defines, each set from the histogram on a scrape. */
export const LAG_GAUGES = [
  ['nodejs_eventloop_lag_min_seconds', 'The minimum recorded event loop delay.', 'min'],
  ['nodejs_eventloop_lag_max_seconds', 'The maximum recorded event loop delay.', 'max'],
  ['nodejs_eventloop_lag_mean_seconds', 'The mean of the recorded event loop delays.', 'average'],
  ['nodejs_eventloop_lag_stddev_seconds', 'The standard deviation of the recorded event loop delays.', 'average'],
  ['nodejs_eventloop_lag_p50_seconds', 'The 50th percentile of the recorded event loop delays.', 'average'],
  ['nodejs_eventloop_lag_p90_seconds', 'The 90th percentile of the recorded event loop delays.', 'average'],
  ['nodejs_eventloop_lag_p99_seconds', 'The 99th percentile of the recorded event loop delays.', 'average'],
] as const;
export const LAG_SECONDS = 'nodejs_eventloop_lag_seconds';

/** min, max, mean, stddev, p50, p90, p99 in nanoseconds, as the histogram reports them. */
type Readings = [number, number, number, number, number, number, number];

function read(h: IntervalHistogram): Readings {
  return [h.min, h.max, h.mean, h.stddev, h.percentile(50), h.percentile(90), h.percentile(99)];
}

export class EventLoopLag {
  private readonly histogram: IntervalHistogram;
  /** What the histogram reports with no sample in it: the same every time, so read once. */
  private empty: Readings | undefined;

  /** Replaces prom-client's lag gauges in `registry`, where they stand; `resolutionMs` is the sampling period. */
  constructor(registry: Registry, resolutionMs: number) {
    const h = monitorEventLoopDelay({ resolution: resolutionMs });
    h.enable();
    this.histogram = h;
    const gauges: Gauge[] = [];
    const lag = new Gauge({
      name: LAG_SECONDS,
      help: 'Lag of event loop in seconds.',
      aggregator: 'average',
      registers: [],
      // As prom-client: this gauge's collect sets every lag gauge. The lag itself is the time
      // to the next turn of the loop, so it shows on the next scrape.
      collect: () => {
        const start = process.hrtime.bigint();
        setImmediate(() => lag.set(Number(process.hrtime.bigint() - start) / 1e9));
        const r = this.readings();
        for (let i = 0; i < gauges.length; i++) (gauges[i] as Gauge).set((r[i] as number) / 1e9);
        h.reset();
      },
    });
    for (const [name, help, aggregator] of LAG_GAUGES) gauges.push(new Gauge({ name, help, aggregator, registers: [] }));
    // In prom-client's place in the registry: a render reads the gauges in registry order, so
    // the lag gauge's collect sets the others first, and what it schedules is already pending
    // when nodejs_active_resources is read, as before.
    const mine = new Set<string>([LAG_SECONDS, ...LAG_GAUGES.map(([n]) => n)]);
    const before = registry.getMetricsAsArray();
    if (!before.some((m) => m.name === LAG_SECONDS)) throw new Error('prom-client registered no event-loop lag gauge');
    registry.clear();
    for (const m of before) {
      if (m.name === LAG_SECONDS) for (const g of [lag, ...gauges]) registry.registerMetric(g);
      else if (!mine.has(m.name)) registry.registerMetric(m as unknown as Metric);
    }
  }

  private readings(): Readings {
    if (this.histogram.count > 0) return read(this.histogram);
    this.empty ??= read(this.histogram);
    return this.empty;
  }
}
