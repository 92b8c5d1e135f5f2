// Hostile clients against the real exporter: pipelined floods that never read, more idle
// connections than the fd limit allows (the exporter runs under prlimit), and wrong-password
// floods with basic auth. Each attack must leave /-/healthy and an authenticated scrape
// answering, and the supervisor collector succeeding. Figures (latency during the attack, CPU
// and RSS over it) are printed as diagnostics; docs/reliability.md quotes them.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import bcrypt from 'bcryptjs';
import { stringify } from 'yaml';
import { Exporter } from './helpers/exporter.js';
import { basicHeader, idleConnections, pipelineFlood, procUsage, timedGet, waitClosed, type ProcUsage } from './helpers/http-attack.js';
import { parseMetrics, value } from './helpers/metrics.js';
import { programs, Supervisord } from './helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

const dir = makeTmpDir('hostaudit-httpc-');
after(() => removeTmpDir(dir));

function report(t: TestContext, what: string, pid: number, before: ProcUsage, figures: Record<string, number>): void {
  const now = procUsage(pid);
  const parts = Object.entries(figures).map(([k, v]) => `${k}=${v.toFixed(0)}ms`);
  t.diagnostic(
    `${what}: ${parts.join(' ')} cpu=${(now.cpuSeconds - before.cpuSeconds).toFixed(2)}s rss=${(before.rssBytes / 2 ** 20).toFixed(0)}->${(now.rssBytes / 2 ** 20).toFixed(0)}MB`,
  );
}

describe('clients that pipeline, hold connections or guess passwords, with supervisord watched at a low fd limit', () => {
  let sv: Supervisord;
  let open: Exporter;
  before(async () => {
    sv = await Supervisord.start({ programs: [{ name: 'worker', command: programs.sleep() }] });
    // 256 descriptors: the cap on connections must leave room for supervisord's socket and /proc.
    open = await Exporter.start({ config: { supervisor: { url: sv.unixUrl } }, wrap: ['prlimit', '--nofile=256:256', '--'] });
  });
  after(async () => {
    await open?.cleanup();
    await sv?.cleanup();
  });

  const supervisorOk = async (): Promise<void> => {
    const r = await timedGet(`${open.url}/metrics`);
    assert.equal(r.status, 200, `scrape answered ${r.status}`);
    const m = parseMetrics(r.body);
    assert.equal(value(m, 'hostaudit_supervisor_up'), 1, 'a false "supervisord down"');
    assert.equal(value(m, 'hostaudit_collector_success', { collector: 'supervisor' }), 1);
  };

  it('serves other clients while 50 connections pipeline 2000 scrapes each and never read; it closes them', async (t) => {
    await supervisorOk();
    const pid = open.child.pid as number;
    const u0 = procUsage(pid);
    const flood = await pipelineFlood(Number(new URL(open.url).port), 50, 2000, '/metrics');
    const healthy = await timedGet(`${open.url}/-/healthy`);
    const scrape = await timedGet(`${open.url}/metrics`);
    assert.equal(healthy.status, 200);
    assert.equal(scrape.status, 200, `a legitimate scrape got ${scrape.status} during the flood`);
    assert.ok(healthy.ms < 5000 && scrape.ms < 5000, `healthy ${healthy.ms} ms, scrape ${scrape.ms} ms`);
    // The server ends each flooding connection instead of answering 2000 scrapes into it.
    assert.equal(await waitClosed(flood, 30_000), 0, 'flooding connections left open');
    report(t, 'pipelined flood (50 x 2000 GET /metrics)', pid, u0, { healthy: healthy.ms, scrape: scrape.ms });
    await supervisorOk();
  });

  it('with more idle connections than descriptors, still scrapes (supervisor collector included)', async (t) => {
    const pid = open.child.pid as number;
    const u0 = procUsage(pid);
    const idle = await idleConnections(Number(new URL(open.url).port), 300);
    // Give the server time to accept (and refuse) them all before the real scrape.
    await new Promise((r) => setTimeout(r, 1000));
    const healthy = await timedGet(`${open.url}/-/healthy`);
    const t0 = performance.now();
    await supervisorOk();
    const scrapeMs = performance.now() - t0;
    assert.equal(healthy.status, 200);
    report(t, 'idle connections (300 at nofile 256)', pid, u0, { healthy: healthy.ms, scrape: scrapeMs });
    // Connections that never send a request are not kept forever.
    assert.equal(await waitClosed(idle, 60_000), 0, 'idle connections never reaped');
    await supervisorOk();
  });
});

describe('wrong-password floods and unauthenticated pipelines with basic auth on', () => {
  const PASSWORD = 'right-horse-battery';
  let exp: Exporter;
  before(async () => {
    const web = path.join(dir, 'auth.yml');
    // Cost 10, toolkit's documented default: each comparison is tens of milliseconds of CPU.
    writeFileSync(web, stringify({ basic_auth_users: { prometheus: bcrypt.hashSync(PASSWORD, 10) } }));
    exp = await Exporter.start({ config: { supervisor: { url: `unix://${path.join(dir, 'none.sock')}` } }, args: [`--web.config.file=${web}`] });
  });
  after(async () => exp?.cleanup());

  const auth = { authorization: basicHeader('prometheus', PASSWORD) };

  it('answers an authenticated scrape and /-/healthy while 50 unauthenticated connections pipeline 2000 GETs each', async (t) => {
    assert.equal((await timedGet(`${exp.url}/metrics`, auth)).status, 200); // its verdict is cached now
    const pid = exp.child.pid as number;
    const u0 = procUsage(pid);
    const flood = await pipelineFlood(Number(new URL(exp.url).port), 50, 2000, '/metrics');
    const healthy = await timedGet(`${exp.url}/-/healthy`, auth);
    const scrape = await timedGet(`${exp.url}/metrics`, auth);
    assert.equal(healthy.status, 200);
    assert.equal(scrape.status, 200);
    assert.ok(healthy.ms < 5000 && scrape.ms < 5000, `healthy ${healthy.ms} ms, scrape ${scrape.ms} ms`);
    assert.equal(await waitClosed(flood, 30_000), 0, 'flooding connections left open');
    report(t, 'unauthenticated pipelined flood (50 x 2000)', pid, u0, { healthy: healthy.ms, scrape: scrape.ms });
  });

  it('answers 401 to 64 clients guessing passwords without starving an authenticated scrape', async (t) => {
    assert.equal((await timedGet(`${exp.url}/metrics`, auth)).status, 200);
    const pid = exp.child.pid as number;
    const u0 = procUsage(pid);
    let stop = false;
    const statuses = new Map<number, number>();
    const guesser = async (i: number): Promise<void> => {
      for (let n = 0; !stop; n++) {
        const r = await timedGet(`${exp.url}/metrics`, { authorization: basicHeader(i % 2 ? 'prometheus' : `nobody${i}`, `guess-${i}-${n}`) });
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }
    };
    const guessers = Array.from({ length: 64 }, (_, i) => guesser(i));
    await new Promise((r) => setTimeout(r, 1500));
    const scrapes = [];
    for (let i = 0; i < 3; i++) scrapes.push(await timedGet(`${exp.url}/metrics`, auth));
    const healthy = await timedGet(`${exp.url}/-/healthy`, auth);
    stop = true;
    await Promise.all(guessers);
    for (const s of scrapes) assert.equal(s.status, 200);
    assert.equal(healthy.status, 200);
    const worst = Math.max(...scrapes.map((s) => s.ms));
    assert.ok(worst < 2000, `authenticated scrape took ${worst} ms during the flood`);
    assert.deepEqual([...statuses.keys()], [401], `guesses got ${JSON.stringify([...statuses])}`);
    report(t, `64 password guessers (${[...statuses.values()][0]} guesses)`, pid, u0, { healthy: healthy.ms, scrapeWorst: worst });
  });
});
