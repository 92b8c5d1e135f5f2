// The audit report as a page: GET /audit on an exporter watching a real supervisord (a crash
// loop, a FATAL program, a program whose name is HTML), and the file `audit --format=html`
// writes, both loaded in Debian's Chromium with JavaScript off. The DOM holds every service and
// every anomaly, the host's names arrive as text (never as markup), and no request leaves the
// page's origin. Visits reuse the exporter's collections: N visits cost at most N.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { stringify } from 'yaml';
import { createCollectors } from '../src/collectors/index.js';
import { CollectorRunner } from '../src/collectors/run-collectors.js';
import { parseConfig } from '../src/config.js';
import { SelfMetrics } from '../src/http/exposition.js';
import { LiveAudit } from '../src/http/audit-page.js';
import { createApp, setReady } from '../src/http/server.js';
import { silentLogger } from '../src/log.js';
import { originalHostWordsIn } from './helpers/original-host.js';
import { launchChromium } from './helpers/chromium.js';
import { runCli } from './helpers/exporter.js';
import { programs, sleep, Supervisord } from './helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

const HOSTILE = `x<b>&"'y`;

interface PageView {
  services: string[];
  anomalies: Array<{ threshold: string; subject: string; title: string }>;
  bannerCounts: number;
  status: string;
  bars: number;
  injected: number;
  requests: string[];
}

/** Loads a URL with JavaScript off, records every request, and reads what the DOM holds. */
async function view(browser: Browser, url: string, credentials?: { username: string; password: string }): Promise<PageView> {
  const context = await browser.newContext({ javaScriptEnabled: false, ...(credentials ? { httpCredentials: credentials } : {}) });
  try {
    const page: Page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const res = await page.goto(url, { waitUntil: 'load', timeout: 60_000 });
    assert.ok(res === null || res.status() === 200, `${url}: ${res?.status()}`);
    const services = await page.locator('tr[data-service]').evaluateAll((els) => els.map((e) => e.getAttribute('data-service') ?? ''));
    const anomalies = await page
      .locator('article.anomaly')
      .evaluateAll((els) => els.map((e) => ({ threshold: e.getAttribute('data-threshold') ?? '', subject: e.getAttribute('data-subject') ?? '', title: e.querySelector('h3')?.textContent ?? '' })));
    const banner = (await page.locator('header .status').textContent()) ?? '';
    const counts = [...banner.matchAll(/(\d+) (?:critical|warning|observations?)/g)].reduce((a, m) => a + Number(m[1]), 0);
    return {
      services,
      anomalies,
      bannerCounts: counts,
      status: (await page.locator('header .status').getAttribute('data-status')) ?? '',
      bars: await page.locator('svg.bar').count(),
      // A <b> anywhere in main would be the service name parsed as markup.
      injected: await page.locator('main b').count(),
      requests,
    };
  } finally {
    await context.close();
  }
}

describe('audit page', () => {
  let dir: string;
  let sv: Supervisord;
  let browser: Browser;
  let configFile: string;
  let runner: CollectorRunner;
  let server: http.Server;
  let origin: string;

  before(async () => {
    dir = makeTmpDir('hostaudit-audit-page-');
    sv = await Supervisord.start({
      programs: [
        { name: 'crasher', command: programs.exitAfter(0.3, 1), options: { startsecs: '0', autorestart: 'true' } },
        { name: 'broken', command: programs.exitAfter(0, 3), options: { startsecs: '1', startretries: '0' } },
        { name: 'web_api', command: programs.sleep() },
        { name: HOSTILE, command: programs.sleep() },
      ],
      groups: { shop: ['web_api'] },
    });
    await sv.waitFor((s) => s.get('broken')?.state === 'FATAL' && s.get('shop:web_api')?.state === 'RUNNING' && s.get(HOSTILE)?.state === 'RUNNING');
    const doc = { supervisor: { url: sv.unixUrl, poll_interval: '250ms' }, paths: [{ name: 'logs', path: sv.logDir }] };
    configFile = path.join(dir, 'hostaudit.yml');
    writeFileSync(configFile, stringify(doc));

    const config = parseConfig(doc, configFile, dir, {});
    runner = new CollectorRunner(createCollectors({ config, log: silentLogger }), config.collectorTimeoutMs, silentLogger);
    const app = createApp({
      runner,
      self: new SelfMetrics('9.9.9'),
      log: silentLogger,
      telemetryPath: '/metrics',
      version: '9.9.9',
      audit: new LiveAudit({ current: runner, config }, '9.9.9', 'test-host'),
    });
    setReady(app, true);
    runner.start();
    server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await runner?.stop();
    await sv?.cleanup();
    if (dir) removeTmpDir(dir);
  });

  it('is linked from / and costs no collection while the last one is fresh', async () => {
    const root = await (await fetch(`${origin}/`)).text();
    assert.match(root, /<a href="audit">Audit report<\/a>/);
    // Two scrapes a few seconds apart, as Prometheus makes them: the page's CPU window.
    assert.equal((await fetch(`${origin}/metrics`)).status, 200);
    await sleep(3000);
    assert.equal((await fetch(`${origin}/metrics`)).status, 200);
    const before = runner.collections;
    const pages = [];
    for (let i = 0; i < 5; i++) pages.push(await fetch(`${origin}/audit`));
    assert.equal(runner.collections, before, 'visits within the freshness window reuse the last collection');
    for (const res of pages) {
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      const html = await res.text();
      assert.match(html, /CPU over [1-9]\d*s/, 'CPU from the two scrapes');
      assert.deepEqual(originalHostWordsIn(html), []);
    }
  });

  it('N visits cost at most N collections when every visit finds the last one stale', async () => {
    const config = parseConfig({ supervisor: { url: sv.unixUrl } }, configFile, dir, {});
    const stale = new LiveAudit({ current: runner, config }, '9.9.9', 'test-host', 0);
    const before = runner.collections;
    const n = 4;
    await Promise.all(Array.from({ length: n }, () => stale.page()));
    for (let i = 0; i < n; i++) await stale.page();
    const used = runner.collections - before;
    assert.ok(used >= 1 && used <= 2 * n, `${used} collections for ${2 * n} visits`);
  });

  it('shows every service and every anomaly in Chromium, escapes the host names, and loads nothing from elsewhere', async () => {
    await fetch(`${origin}/metrics`);
    await sleep(2500);
    await fetch(`${origin}/metrics`);
    const v = await view(browser, `${origin}/audit`);
    assert.deepEqual(v.services.sort(), [...sv.status().keys()].sort());
    assert.ok(v.services.includes(HOSTILE), 'the hostile name, as text');
    assert.equal(v.injected, 0, 'a name from the host became markup');
    assert.ok(v.bars >= 2 * v.services.length, `${v.bars} bars`);
    const keys = v.anomalies.map((a) => `${a.threshold} ${a.subject}`);
    assert.ok(keys.includes('serviceDown broken'), keys.join(', '));
    assert.ok(keys.includes('serviceFlapping crasher') || keys.includes('serviceDown crasher'), keys.join(', '));
    assert.equal(v.bannerCounts, v.anomalies.length, 'the banner counts what the page lists');
    assert.equal(v.status, 'critical');
    assert.ok(v.requests.length >= 1);
    for (const u of v.requests) assert.equal(new URL(u).origin, origin, `request outside the exporter: ${u}`);
  });

  it('renders the same in the file audit --format=html writes', async () => {
    const [html, json] = await Promise.all([
      runCli(['audit', `--config.file=${configFile}`, '--format=html', '--sample=2s']),
      runCli(['audit', `--config.file=${configFile}`, '--format=json', '--sample=2s']),
    ]);
    assert.equal(html.code, 1, html.stderr);
    const file = path.join(dir, 'audit.html');
    writeFileSync(file, html.stdout);
    const url = pathToFileURL(file).href;
    const v = await view(browser, url);
    assert.deepEqual(v.services.sort(), [...sv.status().keys()].sort());
    assert.equal(v.injected, 0);
    // The anomalies of a run of the same host: the FATAL and the crash loop in both.
    const r = JSON.parse(json.stdout) as { anomalies: Array<{ threshold: string; subject: string }> };
    const stable = (list: Array<{ threshold: string; subject: string }>): string[] =>
      list.filter((a) => a.subject === 'broken' || a.subject === 'crasher').map((a) => `${a.threshold} ${a.subject}`).sort();
    assert.ok(stable(v.anomalies).includes('serviceDown broken'));
    assert.deepEqual(stable(v.anomalies).filter((k) => k.endsWith('broken')), stable(r.anomalies).filter((k) => k.endsWith('broken')));
    assert.equal(v.bannerCounts, v.anomalies.length);
    for (const u of v.requests) assert.equal(u, url, `request outside the file: ${u}`);
    assert.deepEqual(originalHostWordsIn(html.stdout), []);
  });
});
