// `promtool check metrics` (Prometheus's own parser and linter) on a real exporter's /metrics,
// default process_* and nodejs_* metrics included, watching a real supervisord.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Exporter } from './helpers/exporter.js';
import { programs, Supervisord } from './helpers/supervisord.js';

function promtool(body: string): { code: number | null; out: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  return { code: r.status, out: `${r.stdout}${r.stderr}`.trim() };
}

describe('promtool check metrics', () => {
  let sv: Supervisord;
  let exp: Exporter;
  before(async () => {
    sv = await Supervisord.start({ programs: [{ name: 'worker', command: programs.sleep() }] });
    exp = await Exporter.start({ config: { supervisor: { url: sv.unixUrl } } });
  });
  after(async () => {
    await exp?.cleanup();
    await sv?.cleanup();
  });

  it('passes the whole text exposition, lint included', async () => {
    const body = await exp.metricsText();
    assert.match(body, /^hostaudit_supervisor_up 1$/m, 'the supervisor families are in the body checked');
    assert.match(body, /^nodejs_active_handles_all \d+$/m, "prom-client's handle total, renamed");
    assert.doesNotMatch(body, /^nodejs_active_\w+_total /m);
    const r = promtool(body);
    assert.equal(r.out, '');
    assert.equal(r.code, 0);
  });

  it('on OpenMetrics, only complains that counters have no help (its parser reads the text format: counter samples end in _total, their TYPE line does not)', async () => {
    const res = await exp.get('/metrics', { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    const body = await res.text();
    assert.match(res.headers.get('content-type') ?? '', /^application\/openmetrics-text/);
    const counters = new Set([...body.matchAll(/^# TYPE (\S+) counter$/gm)].map((m) => `${m[1]}_total`));
    assert.ok(counters.size > 0);
    const complaints = promtool(body).out.split('\n').filter(Boolean);
    const foreign = complaints.filter((l) => {
      const m = /^(\S+) no help text$/.exec(l);
      return !(m && counters.has(m[1] as string));
    });
    assert.deepEqual(foreign, []);
  });
});
