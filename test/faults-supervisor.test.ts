// Faults of supervisord, each against real processes: killed and restarted, answering slowly
// or never (a delaying proxy between exporter and a real supervisord), a socket file nobody
// listens on, SIGTERM while a scrape waits on it. The scrape always answers within its
// deadline; bounds asserted here are correctness bounds (deadline + 3 s), not speed figures.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Exporter } from './helpers/exporter.js';
import { find, parseMetrics, value, type ParsedSample } from './helpers/metrics.js';
import { SocketProxy } from './helpers/proxy.js';
import { programs, PYTHON, sleep, Supervisord } from './helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

const dir = makeTmpDir('hostaudit-fault-sv-');
after(() => removeTmpDir(dir));

/** Series about individual services (must vanish when supervisord is gone). */
function serviceSeries(m: ParsedSample[]): ParsedSample[] {
  return m.filter((s) => s.name.startsWith('hostaudit_service_'));
}

async function timedScrape(exp: Exporter): Promise<{ ms: number; m: ParsedSample[] }> {
  const t0 = Date.now();
  const m = await exp.scrape();
  return { ms: Date.now() - t0, m };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('supervisord killed and restarted', () => {
  let sv: Supervisord;
  let exp: Exporter;
  const orphans: number[] = [];

  before(async () => {
    sv = await Supervisord.start({
      programs: [
        { name: 'main_app', command: programs.sleep() },
        { name: 'kalshi_api_watchdog', command: programs.sleep() },
      ],
    });
    await sv.waitFor((s) => [...s.values()].every((p) => p.state === 'RUNNING'));
    exp = await Exporter.start({ config: { supervisor: { url: sv.unixUrl, timeout: '2s', poll_interval: '500ms' } } });
  });

  after(async () => {
    await exp?.cleanup();
    await sv?.cleanup();
    for (const pid of orphans) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  it('reports it down, with no stale per-service series, while its socket file stays behind', async () => {
    const m0 = await exp.scrape();
    assert.equal(value(m0, 'hostaudit_supervisor_up'), 1);
    assert.equal(find(m0, 'hostaudit_service_info').length, 2);
    for (const p of sv.status().values()) if (p.pid) orphans.push(p.pid); // its children outlive a SIGKILL
    const exited = new Promise<void>((r) => (sv as unknown as { child: import('node:child_process').ChildProcess }).child.once('exit', () => r()));
    sv.kill();
    await exited;
    assert.ok(existsSync(sv.socket), 'a SIGKILLed supervisord leaves its socket file: connecting is refused');
    const { ms, m } = await timedScrape(exp);
    assert.ok(ms < 2000 + 3000, `scrape took ${ms} ms`);
    assert.equal(value(m, 'hostaudit_supervisor_up'), 0);
    assert.deepEqual(serviceSeries(m), []);
    assert.equal(find(m, 'hostaudit_supervisor_info').length, 0);
    assert.equal(value(m, 'hostaudit_collector_success', { collector: 'supervisor' }) !== undefined, true);
    assert.match(exp.output, /supervisord did not answer.*ECONNREFUSED/);
  });

  it('picks supervisord up again when it comes back', async () => {
    for (const pid of orphans) process.kill(pid, 'SIGKILL');
    await sv.launch();
    const m = await until('supervisor_up 1', async () => {
      const s = await exp.scrape();
      return value(s, 'hostaudit_supervisor_up') === 1 && find(s, 'hostaudit_service_info').length === 2 ? s : undefined;
    });
    assert.equal(find(m, 'hostaudit_service_state', { state: 'RUNNING' }).length, 2);
    assert.match(exp.output, /supervisord answers again/);
  });
});

describe('supervisord answering slowly or never', () => {
  let sv: Supervisord;
  let proxy: SocketProxy;
  let exp: Exporter;
  let expShortDeadline: Exporter;

  before(async () => {
    sv = await Supervisord.start({ programs: [{ name: 'unified_production_coordinator', command: programs.sleep() }] });
    proxy = await SocketProxy.start(path.join(dir, 'proxy.sock'), sv.socket);
    // supervisor.timeout (1 s) shorter than the collector's deadline: supervisor_up 0.
    exp = await Exporter.start({ config: { supervisor: { url: proxy.url, timeout: '1s', poll_interval: '1h' } } });
    // The collector's deadline (1 s) shorter than supervisor.timeout: the collector is marked failed.
    expShortDeadline = await Exporter.start({
      config: { supervisor: { url: proxy.url, timeout: '30s', poll_interval: '1h' }, collector_timeout: '1s' },
    });
  });

  after(async () => {
    await exp?.cleanup();
    await expShortDeadline?.cleanup();
    await proxy?.close();
    await sv?.cleanup();
  });

  it('answers through the proxy when it is fast, and when slow but within supervisor.timeout', async () => {
    proxy.delayMs = 0;
    assert.equal(value(await exp.scrape(), 'hostaudit_supervisor_up'), 1);
    proxy.delayMs = 300;
    assert.equal(value(await exp.scrape(), 'hostaudit_supervisor_up'), 1);
  });

  for (const [what, delay] of [
    ['slower than supervisor.timeout', 4000],
    ['never answering', Infinity],
  ] as const) {
    it(`returns within supervisor.timeout with supervisor_up 0 when supervisord is ${what}`, async () => {
      proxy.delayMs = delay;
      const { ms, m } = await timedScrape(exp);
      assert.ok(ms < 1000 + 3000, `scrape took ${ms} ms`);
      assert.equal(value(m, 'hostaudit_supervisor_up'), 0);
      assert.deepEqual(serviceSeries(m), []);
      assert.ok(find(m, 'hostaudit_exporter_build_info').length === 1, 'everything else is served');
    });

    it(`returns within collector_timeout with the collector marked failed when supervisord is ${what}`, async () => {
      proxy.delayMs = delay;
      const { ms, m } = await timedScrape(expShortDeadline);
      assert.ok(ms < 1000 + 3000, `scrape took ${ms} ms`);
      assert.equal(value(m, 'hostaudit_collector_success', { collector: 'supervisor' }), 0);
      assert.equal(value(m, 'hostaudit_supervisor_up'), undefined);
      assert.deepEqual(serviceSeries(m), []);
    });
  }

  it('recovers as soon as supervisord is fast again', async () => {
    proxy.delayMs = 0;
    const m = await until('supervisor_up 1', async () => {
      const s = await exp.scrape();
      return value(s, 'hostaudit_supervisor_up') === 1 ? s : undefined;
    });
    assert.equal(find(m, 'hostaudit_service_info').length, 1);
    const m2 = await expShortDeadline.scrape();
    assert.equal(value(m2, 'hostaudit_collector_success', { collector: 'supervisor' }), 1);
  });

  it('exits 0 within 2 s on SIGTERM while a scrape waits on a hung supervisord', async () => {
    const e = await Exporter.start({ config: { supervisor: { url: proxy.url, timeout: '30s', poll_interval: '1h' }, collector_timeout: '30s' } });
    try {
      proxy.delayMs = Infinity;
      const scrape = e.get('/metrics').then(
        (r) => r.status,
        () => 'connection closed',
      );
      await sleep(500); // the scrape is now waiting on supervisord
      const t0 = Date.now();
      const exited = new Promise<number | null>((r) => e.child.once('exit', (code) => r(code)));
      e.child.kill('SIGTERM');
      const code = await exited;
      const ms = Date.now() - t0;
      assert.equal(code, 0);
      assert.ok(ms < 2000, `exited after ${ms} ms`);
      assert.match(e.output, /shutting down.*SIGTERM/);
      // The waiting scrape got an answer or a closed connection, never a hang.
      assert.ok(['connection closed', 200, 503].includes(await scrape as never), String(await scrape));
    } finally {
      proxy.delayMs = 0;
      await e.cleanup();
    }
  });
});

describe('a socket file nobody listens on', () => {
  it('reports supervisor_up 0 at once, for a stale socket and for a file that is not a socket', async () => {
    const stale = path.join(dir, 'stale.sock');
    // A socket bound and never listened on, its owner gone: the file stays, connect() is refused.
    const r = spawnSync(PYTHON, ['-c', `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(stale)})`]);
    assert.equal(r.status, 0);
    assert.ok(existsSync(stale));
    const notSocket = path.join(dir, 'regular.sock');
    writeFileSync(notSocket, 'not a socket');
    for (const file of [stale, notSocket]) {
      const exp = await Exporter.start({ config: { supervisor: { url: `unix://${file}`, timeout: '5s' } } });
      try {
        const { ms, m } = await timedScrape(exp);
        assert.ok(ms < 5000 + 3000, `scrape took ${ms} ms`);
        assert.equal(value(m, 'hostaudit_supervisor_up'), 0);
        assert.equal(value(m, 'hostaudit_collector_success', { collector: 'supervisor' }), 1, 'a reading, not a failure');
        assert.match(exp.output, /supervisord did not answer.*ECONNREFUSED/);
        assert.deepEqual(serviceSeries(parseMetrics(await exp.metricsText())), []);
      } finally {
        await exp.cleanup();
      }
    }
  });
});
