// The alerts' default runbook_url is the exporter's own /runbooks page: every alert of the
// rules file has its anchor there, the landing page links it, and host text cannot inject markup.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { renderRunbooks } from '../src/http/runbooks-page.js';
import { RUNBOOK_BASE_URL } from '../src/monitoring/alert-rules.js';
import { Exporter, ROOT } from './helpers/exporter.js';

describe('GET /runbooks', () => {
  let e: Exporter;
  before(async () => {
    e = await Exporter.start({ config: { supervisor: { url: 'unix:///nonexistent/supervisor.sock' } } });
  });
  after(async () => {
    await e.cleanup();
  });

  it('holds the runbook of every alert the rules carry, at the anchor of its runbook_url', async () => {
    const res = await e.get('/runbooks');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    const html = await res.text();
    const rules = (parse(readFileSync(path.join(ROOT, 'alerts', 'hostaudit.rules.yml'), 'utf8')) as {
      groups: Array<{ rules: Array<{ alert: string; annotations: { runbook_url: string } }> }>;
    }).groups.flatMap((g) => g.rules);
    assert.ok(rules.length >= 20);
    for (const r of rules) {
      assert.ok(r.annotations.runbook_url.startsWith(`${RUNBOOK_BASE_URL}#`), r.alert);
      const anchor = r.annotations.runbook_url.split('#')[1] as string;
      assert.match(html, new RegExp(`<h2 id="${anchor}">${r.alert}</h2>`), `${r.alert}: no heading with id ${anchor}`);
    }
    assert.match(html, /<strong>What it means\.<\/strong>/);
    const landing = await (await e.get('/')).text();
    assert.match(landing, /<a href="runbooks">Runbooks<\/a>/);
  });

  it('escapes what the markdown holds', () => {
    const html = renderRunbooks('## A <script>x</script>\n\nText with `<b>` and [a link](javascript:alert(1)).\n');
    assert.doesNotMatch(html, /<script>x|<b>|javascript:/);
    assert.match(html, /&lt;script&gt;/);
  });
});
