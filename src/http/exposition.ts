// Turns plain metric families into the Prometheus text format or OpenMetrics: written as
// bytes, in exactly the text prom-client's Registry writes (renderViaRegistry, the reference
// a unit test compares with). The exporter's own metrics go through a fresh prom-client
// Registry per render, so nothing from an earlier scrape can leak into this one.
import { Registry, collectDefaultMetrics, Gauge, type Metric } from 'prom-client';
import type { MetricFamily } from '../collectors/metric-family.js';
import { EventLoopLag } from './event-loop-lag.js';
import { LabelSpans, TextWriter } from './text-writer.js';

const LAG_RESOLUTION_MS = 500;
const PROM_CLIENT_LAG_IDLE_MS = 3_600_000;

export const PROMETHEUS_TEXT = Registry.PROMETHEUS_CONTENT_TYPE;
export const OPENMETRICS_TEXT = Registry.OPENMETRICS_CONTENT_TYPE;

type ContentType = typeof PROMETHEUS_TEXT | typeof OPENMETRICS_TEXT;

/** Picks OpenMetrics only when the client asks for it, as Prometheus does with its Accept header. */
export function negotiate(accept: string | undefined): ContentType {
  if (accept && /application\/openmetrics-text/i.test(accept)) return OPENMETRICS_TEXT;
  return PROMETHEUS_TEXT;
}

interface MetricLike {
  name: string;
  type: string;
  help: string;
  get(): Promise<{
    name: string;
    help: string;
    type: string;
    values: Array<{ labels: Record<string, string>; value: number }>;
    aggregator: string;
  }>;
  reset(): void;
}

function stripTotal(name: string): string {
  return name.endsWith('_total') ? name.slice(0, -'_total'.length) : name;
}

function familyMetric(f: MetricFamily, openMetrics: boolean): MetricLike {
  // prom-client appends _total to counters in OpenMetrics; hand it the base name there.
  const name = openMetrics && f.type === 'counter' ? stripTotal(f.name) : f.name;
  return {
    name,
    type: f.type,
    help: f.help,
    get: async () => ({ name, help: f.help, type: f.type, values: f.samples, aggregator: 'sum' }),
    reset: () => undefined,
  };
}

/** Wraps a long-lived prom-client metric so prom-client's OpenMetrics renaming never mutates it. */
function wrapped(m: Metric, openMetrics: boolean): MetricLike {
  const inner = m as unknown as MetricLike;
  const rename = (n: string): string => (openMetrics && inner.type === 'counter' ? stripTotal(n) : n);
  return {
    name: rename(inner.name),
    type: inner.type,
    help: inner.help,
    get: async () => {
      const r = await inner.get();
      return { ...r, name: rename(r.name) };
    },
    reset: () => undefined,
  };
}

/**
 * prom-client's nodejs_active_{handles,requests,resources}_total are gauges, and a gauge named
 * *_total fails `promtool check metrics`; they are served as nodejs_active_*_all (same value,
 * same help) beside the per-type nodejs_active_* gauges, which keep their names.
 */
function renameTotalGauges(registry: Registry): void {
  for (const what of ['handles', 'requests', 'resources']) {
    const old = registry.getSingleMetric(`nodejs_active_${what}_total`) as unknown as { help: string; collect?: () => void } | undefined;
    if (!old?.collect) continue;
    const collect = old.collect;
    registry.removeSingleMetric(`nodejs_active_${what}_total`);
    new Gauge({
      name: `nodejs_active_${what}_all`,
      help: old.help,
      registers: [registry],
      collect() {
        collect.call(this);
      },
    });
  }
}

/** The exporter's own long-lived metrics: prom-client defaults plus build info. */
export class SelfMetrics {
  readonly registry = new Registry();

  constructor(version: string) {
    // The event-loop delay histogram samples every 500 ms instead of prom-client's 10 ms: at
    // 10 ms its timer alone woke the process 100 times a second, about 1 % of a core at idle,
    // twice the exporter's whole CPU budget (docs/performance.md, "Scrape cost and scale"). Stalls longer
    // than the interval are still caught; nodejs_eventloop_lag_seconds is measured per scrape.
    // prom-client's own histogram is left all but idle (hourly) and its gauges replaced by
    // EventLoopLag's, which read the same figures without walking an empty histogram.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: PROM_CLIENT_LAG_IDLE_MS });
    new EventLoopLag(this.registry, LAG_RESOLUTION_MS); // registers its gauges, which keep it
    renameTotalGauges(this.registry);
    const info = new Gauge<'version' | 'node_version'>({
      name: 'hostaudit_exporter_build_info',
      help: 'A metric with a constant 1 value labeled by the exporter version and the Node.js version it runs on.',
      labelNames: ['version', 'node_version'],
      registers: [this.registry],
    });
    info.set({ version, node_version: process.version }, 1);
  }
}

/**
 * Renders each collection once per format: every scrape that shares a collection (see
 * CollectorRunner.collect) shares its body too, so 50 concurrent scrapes cost one render,
 * not 50. The bodies are keyed weakly by the collection, so they go with it; the last body's
 * size sizes the next one's buffer from the start. One per server.
 */
export class BodyRenderer {
  private readonly rendered = new WeakMap<object, Map<ContentType, Promise<Buffer>>>();
  private readonly spans = new LabelSpans();
  private sizeHint = 64 * 1024;

  constructor(private readonly self: SelfMetrics | undefined) {}

  once(collection: { families: readonly MetricFamily[] }, contentType: ContentType): Promise<Buffer> {
    let byType = this.rendered.get(collection);
    if (!byType) {
      byType = new Map();
      this.rendered.set(collection, byType);
    }
    let body = byType.get(contentType);
    if (!body) {
      body = renderBytes(collection.families, this.self, contentType, this.sizeHint, this.spans).then((b) => {
        this.sizeHint = b.length;
        return b;
      });
      byType.set(contentType, body);
    }
    return body;
  }
}

/** The exposition as the response body's bytes (UTF-8). */
export async function renderBytes(
  families: readonly MetricFamily[],
  self: SelfMetrics | undefined,
  contentType: ContentType,
  sizeHint = 64 * 1024,
  spans = new LabelSpans(),
): Promise<Buffer> {
  const om = contentType === OPENMETRICS_TEXT;
  // The collected families are written here directly: prom-client's Registry did the same
  // text through an async get() and a few intermediate arrays per metric, the largest single
  // cost of rendering (docs/performance.md, "Scrape cost and scale"). Its exact output is kept; a unit test
  // compares the two renderers on every kind of family. The exporter's own long-lived metrics
  // still go through prom-client, which owns them.
  let selfTexts: string[] = [];
  if (self) {
    const reg = new Registry<ContentType>();
    reg.setContentType(contentType);
    // getMetricsAsString is public in prom-client's JavaScript, missing from its typings.
    const one = reg as unknown as { getMetricsAsString(m: MetricLike): Promise<string> };
    selfTexts = await Promise.all(self.registry.getMetricsAsArray().map((m) => one.getMetricsAsString(wrapped(m as unknown as Metric, om))));
  }
  const w = new TextWriter(sizeHint + (sizeHint >> 3), spans);
  // Families are separated by a blank line in the text format, by a newline in OpenMetrics.
  let first = true;
  const separate = (): void => {
    if (!first) {
      w.char(10);
      if (!om) w.char(10);
    }
    first = false;
  };
  for (const f of families) {
    separate();
    writeFamily(w, f, om);
  }
  for (const t of selfTexts) {
    separate();
    w.raw(t);
  }
  w.raw(om ? '\n# EOF\n' : '\n');
  return w.bytes();
}

/** The exposition as text (tests and tools; the server sends renderBytes' bytes). */
export async function render(
  families: readonly MetricFamily[],
  self: SelfMetrics | undefined,
  contentType: ContentType,
): Promise<string> {
  return (await renderBytes(families, self, contentType)).toString('utf8');
}

/** prom-client's rendering of the same families, kept as the reference the unit test compares with. */
export async function renderViaRegistry(
  families: readonly MetricFamily[],
  self: SelfMetrics | undefined,
  contentType: ContentType,
): Promise<string> {
  const om = contentType === OPENMETRICS_TEXT;
  const reg = new Registry<ContentType>();
  reg.setContentType(contentType);
  for (const f of families) reg.registerMetric(familyMetric(f, om) as unknown as Metric);
  if (self) {
    for (const m of self.registry.getMetricsAsArray()) {
      reg.registerMetric(wrapped(m as unknown as Metric, om) as unknown as Metric);
    }
  }
  return reg.metrics();
}

function writeFamily(w: TextWriter, f: MetricFamily, om: boolean): void {
  const counterOm = om && f.type === 'counter';
  const name = counterOm ? stripTotal(f.name) : f.name;
  const sampleName = counterOm ? `${name}_total` : name;
  w.raw('# HELP ');
  w.raw(name);
  w.char(32);
  w.help(f.help);
  w.raw('\n# TYPE ');
  w.raw(name);
  w.char(32);
  w.raw(f.type);
  // The sample name is written once and copied for the family's other samples.
  let nameStart = -1;
  let nameEnd = -1;
  for (const s of f.samples) {
    w.char(10);
    if (nameStart < 0) {
      nameStart = w.length;
      w.raw(sampleName);
      nameEnd = w.length;
    } else w.again(nameStart, nameEnd);
    w.labelSet(s.labels);
    w.char(32);
    w.value(s.value);
  }
}
