// Turns plain metric families into the Prometheus text format or OpenMetrics, using
// prom-client's Registry for escaping and format details. A fresh Registry is built per
// request, so nothing from an earlier scrape can leak into this one.
import { Registry, collectDefaultMetrics, Gauge, type Metric } from 'prom-client';
import type { MetricFamily } from '../collectors/metric-family.js';

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

/** The exporter's own long-lived metrics: prom-client defaults plus build info. */
export class SelfMetrics {
  readonly registry = new Registry();

  constructor(version: string) {
    // The event-loop delay histogram samples every 500 ms instead of prom-client's 10 ms: at
    // 10 ms its timer alone woke the process 100 times a second, about 1 % of a core at idle,
    // twice the exporter's whole CPU budget (README, "Scrape cost and scale"). Stalls longer
    // than the interval are still caught; nodejs_eventloop_lag_seconds is measured per scrape.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 500 });
    const info = new Gauge<'version' | 'node_version'>({
      name: 'hostaudit_exporter_build_info',
      help: 'A metric with a constant 1 value labeled by the exporter version and the Node.js version it runs on.',
      labelNames: ['version', 'node_version'],
      registers: [this.registry],
    });
    info.set({ version, node_version: process.version }, 1);
  }
}

const rendered = new WeakMap<object, Map<ContentType, Promise<string>>>();

/**
 * render() once per collection and format: every scrape that shares a collection (see
 * CollectorRunner.collect) shares its text too, so 50 concurrent scrapes cost one render,
 * not 50. The cache is keyed weakly by the collection, so it goes with it.
 */
export function renderOnce(
  collection: { families: readonly MetricFamily[] },
  self: SelfMetrics | undefined,
  contentType: ContentType,
): Promise<string> {
  let byType = rendered.get(collection);
  if (!byType) {
    byType = new Map();
    rendered.set(collection, byType);
  }
  let text = byType.get(contentType);
  if (!text) {
    text = render(collection.families, self, contentType);
    byType.set(contentType, text);
  }
  return text;
}

export async function render(
  families: readonly MetricFamily[],
  self: SelfMetrics | undefined,
  contentType: ContentType,
): Promise<string> {
  const om = contentType === OPENMETRICS_TEXT;
  // The collected families are written here directly: prom-client's Registry did the same
  // text through an async get() and a few intermediate arrays per metric, the largest single
  // cost of rendering (README, "Scrape cost and scale"). Its exact output is kept; a unit test
  // compares the two renderers on every kind of family. The exporter's own long-lived metrics
  // still go through prom-client, which owns them.
  const parts = families.map((f) => familyText(f, om));
  if (self) {
    const reg = new Registry<ContentType>();
    reg.setContentType(contentType);
    // getMetricsAsString is public in prom-client's JavaScript, missing from its typings.
    const one = reg as unknown as { getMetricsAsString(m: MetricLike): Promise<string> };
    parts.push(...(await Promise.all(self.registry.getMetricsAsArray().map((m) => one.getMetricsAsString(wrapped(m as unknown as Metric, om))))));
  }
  return om ? `${parts.join('\n')}\n# EOF\n` : `${parts.join('\n\n')}\n`;
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

const NEEDS_ESCAPE = /[\\\n"]/;

/** HELP text: backslash and newline escaped (the text format's rules, as prom-client applies them). */
function escapeHelp(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n') : s;
}

/** A label value: backslash, newline and double quote escaped. */
function escapeLabelValue(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : s;
}

function valueText(v: number): string {
  if (Number.isNaN(v)) return 'Nan'; // sic: prom-client's spelling, kept for identical output
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return `${v}`;
}

function familyText(f: MetricFamily, om: boolean): string {
  const counterOm = om && f.type === 'counter';
  const name = counterOm ? stripTotal(f.name) : f.name;
  const sampleName = counterOm ? `${name}_total` : name;
  // Lines collected in an array and joined once: building one long string with += made V8
  // flatten a deep rope at the end, slower than prom-client on 13k lines.
  const lines: string[] = new Array(f.samples.length + 2);
  lines[0] = `# HELP ${name} ${escapeHelp(f.help)}`;
  lines[1] = `# TYPE ${name} ${f.type}`;
  let i = 2;
  for (const s of f.samples) {
    // One string per line, built by concatenation: no key array, no pair array and no join
    // per sample (at 500 services those were a third of a scrape's allocations).
    let labels = '';
    const l = s.labels;
    for (const key in l) labels += `${labels === '' ? '{' : ','}${key}="${escapeLabelValue(String(l[key]))}"`;
    lines[i++] = labels === '' ? `${sampleName} ${valueText(s.value)}` : `${sampleName}${labels}} ${valueText(s.value)}`;
  }
  return lines.join('\n');
}
