// The HTTP layer and the collector runner's contract, in process with supertest: collectors
// here are small test collectors exercising the runner (timeouts, failures, coalescing).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import request from 'supertest';
import type { Collector } from '../src/collectors/collector.js';
import { FamilyBuilder } from '../src/collectors/metric-family.js';
import { CollectorRunner } from '../src/collectors/run-collectors.js';
import { processTable } from '../src/collectors/shared-readings.js';
import { SelfMetrics } from '../src/http/exposition.js';
import { createApp, setReady } from '../src/http/server.js';
import { silentLogger } from '../src/log.js';
import { find, parseMetrics, value } from './helpers/metrics.js';

function collector(name: string, fn: (signal: AbortSignal) => Promise<void> | void, build?: (b: FamilyBuilder) => void): Collector & { calls: number } {
  const c = {
    name,
    calls: 0,
    async collect(ctx: { signal: AbortSignal }) {
      c.calls++;
      await fn(ctx.signal);
      const b = new FamilyBuilder();
      build?.(b);
      return b.build();
    },
  };
  return c;
}

const self = new SelfMetrics('9.9.9');

function app(collectors: Collector[], timeoutMs = 2000) {
  const runner = new CollectorRunner(collectors, timeoutMs, silentLogger);
  const a = createApp({ runner, self, log: silentLogger, telemetryPath: '/metrics', version: '9.9.9' });
  setReady(a, true);
  return { a, runner };
}

describe('HTTP endpoints', () => {
  it('serves the landing page, health and readiness', async () => {
    const { a } = app([]);
    const root = await request(a).get('/');
    assert.equal(root.status, 200);
    assert.match(root.text, /<a href="\/metrics">Metrics<\/a>/);
    assert.equal((await request(a).get('/-/healthy')).status, 200);
    assert.equal((await request(a).get('/-/ready')).status, 200);
    setReady(a, false);
    assert.equal((await request(a).get('/-/ready')).status, 503);
    assert.equal((await request(a).get('/nope')).status, 404);
  });

  it('answers 405 to anything but GET and HEAD', async () => {
    const { a } = app([]);
    const res = await request(a).post('/metrics').send('x');
    assert.equal(res.status, 405);
    assert.equal(res.headers.allow, 'GET, HEAD');
    assert.equal((await request(a).delete('/')).status, 405);
    assert.equal((await request(a).head('/metrics')).status, 200);
  });

  it('serves build info and the default process and nodejs metrics', async () => {
    const { a } = app([]);
    const res = await request(a).get('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] ?? '', /^text\/plain; version=0\.0\.4/);
    const m = parseMetrics(res.text);
    assert.equal(value(m, 'hostaudit_exporter_build_info', { version: '9.9.9', node_version: process.version }), 1);
    assert.ok(find(m, 'process_cpu_seconds_total').length > 0);
    assert.ok(find(m, 'process_resident_memory_bytes').length > 0);
    assert.ok(find(m, 'nodejs_eventloop_lag_seconds').length > 0);
  });

  it('serves OpenMetrics when asked, without renaming the long-lived counters', async () => {
    const { a } = app([collector('c', () => undefined, (b) => b.counter('hostaudit_test_events_total', 'Events.', ['k'])({ k: 'v' }, 3))]);
    const om = await request(a).get('/metrics').set('Accept', 'application/openmetrics-text; version=1.0.0');
    assert.match(om.headers['content-type'] ?? '', /^application\/openmetrics-text/);
    assert.match(om.text, /# TYPE hostaudit_test_events counter\nhostaudit_test_events_total\{k="v"\} 3/);
    assert.match(om.text, /^process_cpu_seconds_total /m);
    assert.match(om.text, /# EOF\n$/);
    const text = await request(a).get('/metrics');
    assert.match(text.text, /# TYPE hostaudit_test_events_total counter\nhostaudit_test_events_total\{k="v"\} 3/);
    assert.match(text.text, /# TYPE process_cpu_seconds_total counter/);
  });

  it('escapes label values from the world', async () => {
    const { a } = app([
      collector('c', () => undefined, (b) => b.gauge('hostaudit_test', 'x', ['d'])({ d: 'a "quoted" \\ back\nslash' }, 1)),
    ]);
    const res = await request(a).get('/metrics');
    assert.match(res.text, /hostaudit_test\{d="a \\"quoted\\" \\\\ back\\nslash"\} 1/);
    assert.equal(value(parseMetrics(res.text), 'hostaudit_test'), 1);
  });
});

describe('collector runner', () => {
  it('a failing or slow collector never fails the scrape', async () => {
    const ok = collector('ok', () => undefined, (b) => b.gauge('hostaudit_ok', 'ok')({}, 1));
    const bad = collector('bad', () => {
      throw new Error('boom');
    });
    const slow = collector('slow', (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))));
    const { a } = app([ok, bad, slow], 300);
    const t0 = Date.now();
    const res = await request(a).get('/metrics');
    assert.equal(res.status, 200);
    assert.ok(Date.now() - t0 < 2000);
    const m = parseMetrics(res.text);
    assert.equal(value(m, 'hostaudit_ok'), 1);
    assert.equal(value(m, 'hostaudit_collector_success', { collector: 'ok' }), 1);
    assert.equal(value(m, 'hostaudit_collector_success', { collector: 'bad' }), 0);
    assert.equal(value(m, 'hostaudit_collector_success', { collector: 'slow' }), 0);
    const d = value(m, 'hostaudit_collector_duration_seconds', { collector: 'slow' }) as number;
    assert.ok(d >= 0.29 && d < 1.5, `slow duration ${d}`);
  });

  it('rebuilds series every scrape: a vanished label set is gone', async () => {
    let names = ['a', 'b'];
    const c = collector('c', () => undefined, (b) => {
      const g = b.gauge('hostaudit_item', 'x', ['name']);
      for (const n of names) g({ name: n }, 1);
    });
    const { a } = app([c]);
    assert.equal(find(parseMetrics((await request(a).get('/metrics')).text), 'hostaudit_item').length, 2);
    names = ['a'];
    const m = parseMetrics((await request(a).get('/metrics')).text);
    assert.deepEqual(find(m, 'hostaudit_item').map((s) => s.labels.name), ['a']);
  });

  it('collectors of one collection share one memo (one /proc pass); the next collection gets a fresh one', async () => {
    const seen: Array<Map<string, unknown> | undefined> = [];
    const mk = (name: string): Collector => ({
      name,
      async collect(ctx) {
        seen.push(ctx.memo);
        processTable(ctx);
        return [];
      },
    });
    const runner = new CollectorRunner([mk('a'), mk('b')], 2000, silentLogger);
    await runner.collect();
    await runner.collect();
    assert.equal(seen.length, 4);
    assert.ok(seen[0] && seen[0] === seen[1], 'same memo within a collection');
    assert.ok(seen[2] && seen[2] !== seen[0], 'fresh memo for the next collection');
    assert.ok(seen[0]?.get('process-table'), 'the process table was read once into it');
  });

  it('concurrent scrapes share one collection in flight', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const c = collector('c', () => gate, (b) => b.gauge('hostaudit_x', 'x')({}, 7));
    const { a, runner } = app([c]);
    const scrapes = Array.from({ length: 20 }, () => request(a).get('/metrics').then((r) => r));
    await new Promise((r) => setTimeout(r, 200));
    release();
    const results = await Promise.all(scrapes);
    for (const r of results) assert.equal(value(parseMetrics(r.text), 'hostaudit_x'), 7);
    assert.equal(c.calls, 1);
    assert.equal(runner.collections, 1);
    await request(a).get('/metrics');
    assert.equal(c.calls, 2);
  });
});
