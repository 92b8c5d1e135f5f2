// Security against real processes: secrets (supervisor password, basic-auth hashes, probe
// credentials) never in /metrics, logs, errors, the audit report or `ps`; label values from
// the world escaped so Prometheus's own parser (promtool) reads them back exactly; request
// hardening (methods, bodies, header size and time, concurrent scrapes).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import request from 'supertest';
import { stringify } from 'yaml';
import type { Collector } from '../src/collectors/collector.js';
import { FamilyBuilder } from '../src/collectors/metric-family.js';
import { CollectorRunner } from '../src/collectors/run-collectors.js';
import { OPENMETRICS_TEXT, PROMETHEUS_TEXT, render, SelfMetrics } from '../src/http/exposition.js';
import { createApp, setReady } from '../src/http/server.js';
import { silentLogger } from '../src/log.js';
import { Exporter, runCli } from './helpers/exporter.js';
import { find, parseMetrics, value } from './helpers/metrics.js';
import { programs, Supervisord } from './helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

const dir = makeTmpDir('hostaudit-sec-');
after(() => removeTmpDir(dir));

/** Runs promtool's exposition parser over a scrape; returns its complaints about the syntax (none expected). */
function promtoolParseErrors(text: string): string {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  const out = `${r.stdout}${r.stderr}`;
  return /parsing error|error while linting/i.test(out) ? out : '';
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

describe('secrets never leave the exporter', () => {
  const SV_USER = 'auditor';
  const SV_PASS = 'svPass7c1eX9qQ';
  const WEB_PASS = 'webPass-51d0';
  const WEB_HASH = bcrypt.hashSync(WEB_PASS, 4);
  const PROBE_PASS = 'pr@be:Pass/31';
  let sv: Supervisord;
  let exp: Exporter;
  let probeServer: http.Server;
  let probeAuthSeen = '';
  const passFile = path.join(dir, 'supervisor.pass');
  let configFile: string;
  let secrets: string[];

  before(async () => {
    probeServer = http.createServer((req, res) => {
      probeAuthSeen = req.headers.authorization ?? '';
      res.writeHead(probeAuthSeen === basic('probe', PROBE_PASS) ? 200 : 401).end();
    });
    await new Promise<void>((r) => probeServer.listen(0, '127.0.0.1', r));
    const probePort = (probeServer.address() as net.AddressInfo).port;
    sv = await Supervisord.start({
      programs: [{ name: 'kalshi_account_sync', command: programs.sleep() }],
      unixAuth: { username: SV_USER, password: SV_PASS },
    });
    writeFileSync(passFile, `${SV_PASS}\n`, { mode: 0o600 });
    const config = {
      supervisor: { url: sv.unixUrl, username: SV_USER, password_file: passFile },
      probes: [{ name: 'web', url: `http://probe:${encodeURIComponent(PROBE_PASS)}@127.0.0.1:${probePort}/health` }],
    };
    configFile = path.join(dir, 'hostaudit.yml');
    writeFileSync(configFile, stringify(config));
    const webFile = path.join(dir, 'web.yml');
    writeFileSync(webFile, stringify({ basic_auth_users: { prometheus: WEB_HASH } }));
    exp = await Exporter.start({ args: [`--config.file=${configFile}`, `--web.config.file=${webFile}`] });
    // The raw and the URL-encoded forms of each secret; the hash without its cost prefix too.
    secrets = [SV_PASS, WEB_PASS, WEB_HASH, WEB_HASH.slice(7), PROBE_PASS, encodeURIComponent(PROBE_PASS)];
  });

  after(async () => {
    await exp?.cleanup();
    await sv?.cleanup();
    probeServer?.close();
  });

  function assertNoSecret(where: string, text: string): void {
    for (const s of secrets) assert.ok(!text.includes(s), `${where} contains a secret (${s.slice(0, 3)}…)`);
  }

  it('uses every secret (so their absence below means something)', async () => {
    const res = await exp.get('/metrics', { headers: { authorization: basic('prometheus', WEB_PASS) } });
    assert.equal(res.status, 200);
    const m = parseMetrics(await res.text());
    assert.equal(value(m, 'hostaudit_supervisor_up'), 1, 'the password from password_file was accepted');
    assert.equal(find(m, 'hostaudit_service_info').length, 1);
    assert.equal(value(m, 'hostaudit_probe_success', { probe: 'web' }), 1, 'the probe sent its credentials');
    assert.equal(probeAuthSeen, basic('probe', PROBE_PASS));
  });

  it('shows a URL with credentials without them', async () => {
    const res = await exp.get('/metrics', { headers: { authorization: basic('prometheus', WEB_PASS) } });
    const m = parseMetrics(await res.text());
    const url = find(m, 'hostaudit_probe_success', { probe: 'web' })[0]?.labels.url ?? '';
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/health$/);
  });

  it('keeps them out of /metrics in both formats', async () => {
    for (const accept of ['text/plain', 'application/openmetrics-text; version=1.0.0']) {
      const res = await exp.get('/metrics', { headers: { authorization: basic('prometheus', WEB_PASS), accept } });
      assert.equal(res.status, 200);
      assertNoSecret(`/metrics (${accept})`, await res.text());
    }
  });

  it('keeps them out of the live audit page', async () => {
    const res = await exp.get('/audit', { headers: { authorization: basic('prometheus', WEB_PASS) } });
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /127\.0\.0\.1:\d+\/health/, 'the page shows the probe URL, without credentials');
    assertNoSecret('/audit', html);
  });

  it('keeps them out of ps output and the command line (no secret is ever a flag)', () => {
    const cmdline = readFileSync(`/proc/${exp.child.pid}/cmdline`, 'utf8').split('\0').join(' ');
    assert.match(cmdline, /--config\.file=/);
    assertNoSecret('/proc/PID/cmdline', cmdline);
    const ps = execFileSync('ps', ['-eww', '-o', 'pid=,args='], { encoding: 'utf8' });
    assert.ok(ps.includes(String(exp.child.pid)));
    assertNoSecret('ps -eww -o args', ps);
  });

  it('keeps them out of logs and errors, also when supervisord rejects the password', async () => {
    const wrong = 'wrongPass-88aa';
    secrets.push(wrong);
    writeFileSync(passFile, wrong);
    try {
      const res = await exp.get('/metrics', { headers: { authorization: basic('prometheus', WEB_PASS) } });
      const m = parseMetrics(await res.text());
      assert.equal(value(m, 'hostaudit_supervisor_up'), 0);
      // A request with bad credentials of every kind, then let the log flush.
      await exp.get('/metrics', { headers: { authorization: basic('prometheus', SV_PASS) } });
      await exp.get('/metrics', { headers: { authorization: basic(WEB_HASH, WEB_PASS) } });
      await new Promise((r) => setTimeout(r, 300));
      assert.match(exp.output, /authentication failed|401/, 'the failure is logged (without the password)');
      assertNoSecret('the debug log', exp.output);
    } finally {
      writeFileSync(passFile, SV_PASS);
    }
  });

  it('keeps them out of the audit report and its errors', async () => {
    for (const format of ['json', 'markdown', 'html']) {
      const r = await runCli(['audit', `--config.file=${configFile}`, `--format=${format}`, '--sample=1s'], { timeoutMs: 60_000 });
      // A real report (exit 0 healthy or 1 anomaly), made with the password and the probe's credentials.
      assert.ok(r.code === 0 || r.code === 1, `audit exited ${r.code}: ${r.stderr}`);
      assert.match(r.stdout, /kalshi_account_sync/, 'the report lists the service: the password worked');
      assert.match(r.stdout, /127\.0\.0\.1:\d+\/health/, 'the report shows the probe URL, without credentials');
      assertNoSecret(`audit --format=${format} stdout`, r.stdout);
      assertNoSecret(`audit --format=${format} stderr`, r.stderr);
    }
  });

  it('keeps them out of a config error about a neighbouring key', async () => {
    const bad = path.join(dir, 'bad.yml');
    writeFileSync(bad, stringify({ supervisor: { url: sv.unixUrl, username: SV_USER, password_file: passFile, timeout: 'soon' } }));
    const r = await runCli([`--config.file=${bad}`]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /supervisor\.timeout/);
    assertNoSecret('config error', r.stderr);
  });

  it('refuses credentials in the supervisor URL rather than show them', async () => {
    const bad = path.join(dir, 'url-creds.yml');
    writeFileSync(bad, stringify({ supervisor: { url: `http://${SV_USER}:${SV_PASS}@127.0.0.1:9001/RPC2` } }));
    const r = await runCli([`--config.file=${bad}`]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /supervisor\.url: must not contain credentials/);
    assertNoSecret('config error', r.stderr);
  });
});

describe('label values from the world are escaped', () => {
  // supervisor allows any name without space, ":" or "/"; descriptions of FATAL programs are
  // supervisor's spawn error, which quotes the command with Python's repr().
  const WEIRD = 'we"ird\\name';
  const MISSING = '/nonexistent/a "quoted" \\ path';
  let sv: Supervisord;
  let exp: Exporter;

  before(async () => {
    sv = await Supervisord.start({
      programs: [
        { name: WEIRD, command: programs.sleep() },
        // shlex keeps everything inside single quotes literally: the command is MISSING itself.
        { name: 'badcmd', command: `'${MISSING}'`, options: { startretries: '0' } },
      ],
    });
    exp = await Exporter.start({ config: { supervisor: { url: sv.unixUrl } } });
    await sv.waitFor((s) => s.get('badcmd')?.state === 'FATAL' && s.get(WEIRD)?.state === 'RUNNING');
  });

  after(async () => {
    await exp?.cleanup();
    await sv?.cleanup();
  });

  it('reads back a program name with a quote and a backslash exactly', async () => {
    const text = await exp.metricsText();
    assert.equal(promtoolParseErrors(text), '');
    const m = parseMetrics(text);
    assert.equal(value(m, 'hostaudit_service_up', { group: WEIRD, name: WEIRD }), 1);
    assert.ok(text.includes('name="we\\"ird\\\\name"'), 'escaped as \\" and \\\\ in the text');
  });

  it("reads back supervisor's description with quotes and backslashes exactly", async () => {
    const text = await exp.metricsText();
    const m = parseMetrics(text);
    const info = find(m, 'hostaudit_service_info', { name: 'badcmd' });
    assert.equal(info.length, 1);
    // Python's repr() of MISSING: single-quoted, backslash doubled.
    const expected = `can't find command '${MISSING.replace(/\\/g, '\\\\')}'`;
    assert.equal(info[0]?.labels.description, expected);
    assert.equal(value(m, 'hostaudit_service_state', { name: 'badcmd', state: 'FATAL' }), 1);
  });

  it('escapes newlines, quotes, backslashes and non-ASCII in both formats so promtool parses them', async () => {
    const nasty = ['line one\nline two', 'say "hi"', 'C:\\temp\\', '\\n literally', 'café ☃ 日本', 'tab\there', 'trailing\\'];
    const b = new FamilyBuilder();
    const g = b.gauge('hostaudit_test_escape', 'Test family.', ['v']);
    nasty.forEach((v, i) => g({ v }, i));
    const text = await render(b.build(), undefined, PROMETHEUS_TEXT);
    assert.equal(promtoolParseErrors(text), '');
    const back = parseMetrics(text);
    nasty.forEach((v, i) => assert.equal(value(back, 'hostaudit_test_escape', { v }), i, JSON.stringify(v)));
    const om = await render(b.build(), undefined, OPENMETRICS_TEXT);
    assert.match(om, /# EOF\n$/);
    for (const v of nasty) {
      const escaped = v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
      assert.ok(om.includes(`v="${escaped}"`), `OpenMetrics escapes ${JSON.stringify(v)}`);
    }
  });
});

describe('request hardening against the running exporter', () => {
  let exp: Exporter;
  let port: number;

  before(async () => {
    exp = await Exporter.start({ config: { supervisor: { url: `unix://${path.join(dir, 'nobody.sock')}` } } });
    port = Number(new URL(exp.url).port);
  });
  after(async () => exp?.cleanup());

  /** Sends raw bytes and returns what comes back until the server closes or `ms` pass. */
  function raw(data: string, ms = 5000): Promise<string> {
    return new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      let got = '';
      s.on('data', (d) => (got += d.toString('latin1')));
      const done = (): void => resolve(got);
      s.on('close', done);
      s.on('error', done);
      s.write(data);
      setTimeout(() => s.destroy(), ms).unref();
    });
  }

  it('answers only GET and HEAD', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const res = await exp.get('/metrics', { method });
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.get('allow'), 'GET, HEAD');
    }
    const head = await exp.get('/metrics', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });

  it('refuses a request body instead of reading it', async () => {
    const sized = await raw('GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n0123456789');
    assert.match(sized, /^HTTP\/1\.1 413 /);
    const chunked = await raw('GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
    assert.match(chunked, /^HTTP\/1\.1 413 /);
  });

  it('refuses headers over 16 KiB with 431', async () => {
    const big = await raw(`GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
    assert.match(big, /^HTTP\/1\.1 431 /);
  });

  it('closes a connection whose headers trickle in (slowloris) once the 10 s header timeout passes', async () => {
    const s = net.connect(port, '127.0.0.1');
    await new Promise<void>((r) => s.once('connect', () => r()));
    const t0 = Date.now();
    s.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    const trickle = setInterval(() => s.writable && s.write('X-Slow: a\r\n'), 1000);
    const closedAfter = await new Promise<number>((resolve) => {
      s.on('close', () => resolve(Date.now() - t0));
      setTimeout(() => resolve(Infinity), 25_000).unref();
    });
    clearInterval(trickle);
    s.destroy();
    // A correctness bound, not a speed figure: the header timeout (10 s) plus checking slack.
    assert.ok(closedAfter < 15_000, `closed after ${closedAfter} ms`);
    assert.ok(closedAfter >= 9_000, `not before the header timeout (${closedAfter} ms)`);
    assert.match(got, /^(HTTP\/1\.1 408 |$)/);
  });

  it('limits scrapes waiting for a collection and answers the rest 503', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const slow: Collector = {
      name: 'slow',
      async collect() {
        await gate;
        return new FamilyBuilder().build();
      },
    };
    const runner = new CollectorRunner([slow], 30_000, silentLogger);
    const app = createApp({ runner, self: new SelfMetrics('0'), log: silentLogger, telemetryPath: '/metrics', version: '0', maxConcurrentScrapes: 3 });
    setReady(app, true);
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    try {
      const agent = request(server);
      const pending = Array.from({ length: 8 }, () => agent.get('/metrics').then((r) => r.status));
      await new Promise((r) => setTimeout(r, 300));
      release();
      const statuses = await Promise.all(pending);
      assert.equal(statuses.filter((s) => s === 200).length, 3);
      assert.equal(statuses.filter((s) => s === 503).length, 5);
      assert.equal(runner.collections, 1);
    } finally {
      server.close();
    }
  });
});
