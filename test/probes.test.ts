// Probes and critical files against real servers and real files: HTTP servers started here
// (fast, slow, 500, redirect loop, basic auth), a closed port, an HTTPS server with a
// self-signed certificate made by openssl; then the same through the exporter's /metrics
// and its debug log.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FilesCollector } from '../src/collectors/files.js';
import { ProbesCollector } from '../src/collectors/probes.js';
import { probe } from '../src/sources/probe.js';
import type { ProbeConfig } from '../src/config.js';
import { Logger, silentLogger } from '../src/log.js';
import { Exporter } from './helpers/exporter.js';
import { find, parseMetrics, value } from './helpers/metrics.js';
import { freePort } from './helpers/supervisord.js';
import { timeWaitSockets } from './helpers/time-wait.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

const SECRET = 'pr0be-s3cret';

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = req.url ?? '/';
  if (url === '/ok') {
    res.end('ok');
  } else if (url === '/slow') {
    const t = setTimeout(() => res.end('late'), 4000);
    res.on('close', () => clearTimeout(t));
  } else if (url === '/fail') {
    res.statusCode = 500;
    res.end('boom');
  } else if (url === '/loop-a' || url === '/loop-b') {
    res.writeHead(302, { location: url === '/loop-a' ? '/loop-b' : '/loop-a' }).end();
  } else if (url.startsWith('/hop/')) {
    const n = Number(url.slice('/hop/'.length));
    res.writeHead(301, { location: n > 1 ? `/hop/${n - 1}` : '/ok' }).end();
  } else if (url === '/auth') {
    const expected = `Basic ${Buffer.from(`auditor:${SECRET}`).toString('base64')}`;
    res.statusCode = req.headers.authorization === expected ? 204 : 401;
    res.end();
  } else if (url === '/stall-body') {
    res.writeHead(200, { 'content-length': '100' });
    res.write('partial');
  } else {
    res.statusCode = 404;
    res.end();
  }
}

function listen(server: http.Server | https.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

describe('probes and critical files', () => {
  let dir: string;
  let server: http.Server;
  let tlsServer: https.Server;
  let base: string;
  let tlsBase: string;
  let closedPort: number;
  let probes: ProbeConfig[];

  before(async () => {
    dir = makeTmpDir('hostaudit-probes-');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    server = http.createServer(handler);
    tlsServer = https.createServer({ key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) }, handler);
    base = `http://127.0.0.1:${await listen(server)}`;
    tlsBase = `https://127.0.0.1:${await listen(tlsServer)}`;
    closedPort = await freePort();
    const p = (name: string, url: string, extra: Partial<ProbeConfig> = {}): ProbeConfig => ({
      name,
      url,
      timeoutMs: 2000,
      insecureSkipVerify: false,
      ...extra,
    });
    probes = [
      p('ok', `${base}/ok`),
      p('slow', `${base}/slow`, { timeoutMs: 500 }),
      p('fail', `${base}/fail`),
      p('refused', `http://127.0.0.1:${closedPort}/health`),
      p('loop', `${base}/loop-a`),
      p('hops', `${base}/hop/3`),
      p('too_many_hops', `${base}/hop/15`),
      p('auth', `http://auditor:${SECRET}@127.0.0.1:${new URL(base).port}/auth`),
      p('stall', `${base}/stall-body`, { timeoutMs: 500 }),
      p('tls_untrusted', `${tlsBase}/ok`),
      p('tls_insecure', `${tlsBase}/ok`, { insecureSkipVerify: true }),
      p('not_found', `${base}/nope`),
    ];
  });

  after(async () => {
    server?.closeAllConnections();
    tlsServer?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await new Promise((r) => tlsServer?.close(r));
    removeTmpDir(dir);
  });

  it('gives success 1 only for a 2xx answer within the timeout, with the last status code', async () => {
    const debug: string[] = [];
    const log = new Logger('debug', 'json', (line) => debug.push(line));
    const c = new ProbesCollector(probes, 8000);
    const readings = await c.read({ signal: new AbortController().signal, log });
    const by = new Map(readings.map((r) => [r.probe, r]));
    const expect: Record<string, [number, number]> = {
      ok: [1, 200],
      slow: [0, 0],
      fail: [0, 500],
      refused: [0, 0],
      loop: [0, 302],
      hops: [1, 200],
      too_many_hops: [0, 301],
      auth: [1, 204],
      stall: [0, 0],
      tls_untrusted: [0, 0],
      tls_insecure: [1, 200],
      not_found: [0, 404],
    };
    for (const [name, [success, code]] of Object.entries(expect)) {
      const r = by.get(name);
      assert.ok(r, name);
      assert.equal(r.success ? 1 : 0, success, `${name} success (${r.reason})`);
      assert.equal(r.statusCode, code, `${name} status (${r.reason})`);
      assert.ok(r.durationSeconds > 0, `${name} duration`);
    }
    assert.equal(by.get('hops')?.redirects, 3);
    assert.match(by.get('refused')?.reason ?? '', /ECONNREFUSED/);
    assert.match(by.get('slow')?.reason ?? '', /no complete answer within 500ms/);
    assert.match(by.get('loop')?.reason ?? '', /redirect loop/);
    assert.match(by.get('too_many_hops')?.reason ?? '', /more than 10 redirects/);
    assert.match(by.get('tls_untrusted')?.reason ?? '', /self[- ]signed/i);
    // credentials are used but never shown
    assert.equal(by.get('auth')?.url, `http://127.0.0.1:${new URL(base).port}/auth`);
    assert.equal(debug.filter((l) => l.includes(SECRET)).length, 0);
    assert.ok(debug.some((l) => l.includes('"probe":"refused"') && l.includes('ECONNREFUSED')), debug.join('\n'));
  });

  it('leaves no TIME_WAIT socket on the probed host, for a Node and a Python server', async () => {
    // A FIN-closed probe leaves one TIME_WAIT socket per probe on the server side for 60 s;
    // the probe resets the connection once the whole answer is in (close-with-reset.ts).
    // Node: a fresh server of its own, so no earlier connection to it can be in TIME_WAIT.
    let requests = 0;
    let socketErrors = 0;
    const own = http.createServer((req, res) => {
      requests++;
      handler(req, res);
    });
    own.on('connection', (sock) => sock.on('error', () => socketErrors++));
    const ownPort = await listen(own);
    // Python's http.server, as the audited host's services would answer.
    const pyPort = await freePort();
    const py = spawn('python3', ['-c', [
      'import http.server, sys',
      'class H(http.server.BaseHTTPRequestHandler):',
      '    def do_GET(self):',
      '        self.send_response(200); self.send_header("content-length", "3"); self.end_headers(); self.wfile.write(b"ok\\n")',
      `http.server.ThreadingHTTPServer(("127.0.0.1", ${pyPort}), H).serve_forever()`,
    ].join('\n')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let pyErr = '';
    py.stderr.on('data', (d: Buffer) => (pyErr += d.toString()));
    try {
      const target = (url: string) => ({ url, timeoutMs: 2000, insecureSkipVerify: false });
      for (let i = 0; i < 5; i++) {
        const r = await probe(target(`http://127.0.0.1:${ownPort}/ok`));
        assert.equal(r.success, true, r.reason);
      }
      const hops = await probe(target(`http://127.0.0.1:${ownPort}/hop/2`));
      assert.equal(hops.redirects, 2, hops.reason);
      assert.equal(requests, 8);
      for (let i = 0; ; i++) {
        const r = await probe(target(`http://127.0.0.1:${pyPort}/`));
        if (r.success) break;
        assert.ok(i < 100, `python server never answered: ${r.reason} ${pyErr}`);
        await new Promise((res) => setTimeout(res, 50));
      }
      for (let i = 0; i < 5; i++) assert.equal((await probe(target(`http://127.0.0.1:${pyPort}/`))).success, true);
      await new Promise((res) => setTimeout(res, 200));
      assert.equal(timeWaitSockets(ownPort), 0, 'TIME_WAIT sockets on the Node server');
      assert.equal(timeWaitSockets(pyPort), 0, 'TIME_WAIT sockets on the Python server');
      assert.equal(socketErrors, 0);
      // Its stderr holds one access-log line per request and nothing else (no traceback).
      const lines = pyErr.split('\n').filter(Boolean);
      assert.equal(lines.length, 6, pyErr);
      assert.deepEqual(lines.filter((l) => !/"GET \/ HTTP\/1\.1" 200 -$/.test(l)), []);
    } finally {
      py.kill();
      own.closeAllConnections();
      await new Promise((r) => own.close(r));
    }
  });

  it('caps a probe timeout just under the collector deadline', async () => {
    const c = new ProbesCollector([{ name: 'slow', url: `${base}/slow`, timeoutMs: 10_000, insecureSkipVerify: false }], 1000);
    const [r] = await c.read({ signal: new AbortController().signal, log: silentLogger });
    assert.equal(r?.success, false);
    assert.match(r?.reason ?? '', /within 750ms/);
  });

  it('reports file presence: a file, a missing file, a directory, a dangling symlink, a symlink to a file', async () => {
    const files = path.join(dir, 'files');
    mkdirSync(files);
    writeFileSync(path.join(files, 'production.yaml'), 'a: 1\n');
    mkdirSync(path.join(files, 'a-dir'));
    symlinkSync(path.join(files, 'gone.yaml'), path.join(files, 'dangling.yaml'));
    symlinkSync(path.join(files, 'production.yaml'), path.join(files, 'linked.yaml'));
    const names = ['production.yaml', 'missing.yaml', 'a-dir', 'dangling.yaml', 'linked.yaml'];
    const c = new FilesCollector(names.map((n) => path.join(files, n)));
    const fams = await c.collect({ signal: new AbortController().signal, log: silentLogger });
    const got = Object.fromEntries((fams[0]?.samples ?? []).map((s) => [path.basename(s.labels.path ?? ''), s.value]));
    assert.deepEqual(got, { 'production.yaml': 1, 'missing.yaml': 0, 'a-dir': 0, 'dangling.yaml': 0, 'linked.yaml': 1 });
  });

  it('serves the same through /metrics, with each failure reason in the debug log and no credentials anywhere', async () => {
    const cfgFile = path.join(dir, 'present.yaml');
    writeFileSync(cfgFile, 'x: 1\n');
    chmodSync(cfgFile, 0o644);
    const exp = await Exporter.start({
      config: {
        supervisor: { url: `unix://${dir}/absent.sock`, timeout: '1s' },
        probes: probes.map((p) => ({ name: p.name, url: p.url, timeout: `${p.timeoutMs}ms`, insecure_skip_verify: p.insecureSkipVerify })),
        critical_files: [cfgFile, path.join(dir, 'absent.yaml')],
      },
    });
    try {
      const text = await exp.metricsText();
      const m = parseMetrics(text);
      assert.equal(value(m, 'hostaudit_probe_success', { probe: 'ok', url: `${base}/ok` }), 1);
      assert.equal(value(m, 'hostaudit_probe_status_code', { probe: 'ok' }), 200);
      assert.equal(value(m, 'hostaudit_probe_success', { probe: 'fail' }), 0);
      assert.equal(value(m, 'hostaudit_probe_status_code', { probe: 'fail' }), 500);
      assert.equal(value(m, 'hostaudit_probe_success', { probe: 'refused' }), 0);
      assert.equal(value(m, 'hostaudit_probe_status_code', { probe: 'refused' }), 0);
      assert.equal(value(m, 'hostaudit_probe_success', { probe: 'tls_insecure' }), 1);
      assert.equal(value(m, 'hostaudit_probe_success', { probe: 'tls_untrusted' }), 0);
      assert.equal(value(m, 'hostaudit_probe_success', { probe: 'auth' }), 1);
      assert.equal(find(m, 'hostaudit_probe_success').length, probes.length);
      assert.equal(find(m, 'hostaudit_probe_duration_seconds').length, probes.length);
      assert.equal(value(m, 'hostaudit_file_present', { path: cfgFile }), 1);
      assert.equal(value(m, 'hostaudit_file_present', { path: path.join(dir, 'absent.yaml') }), 0);
      assert.equal(value(m, 'hostaudit_collector_success', { collector: 'probes' }), 1);
      assert.equal(value(m, 'hostaudit_collector_success', { collector: 'files' }), 1);
      assert.ok(!text.includes(SECRET), 'no password in /metrics');
      assert.ok(!exp.output.includes(SECRET), 'no password in the log');
      for (const [name, reason] of [
        ['refused', /ECONNREFUSED/],
        ['slow', /no complete answer within 500ms/],
        ['fail', /HTTP 500/],
        ['loop', /redirect loop/],
        ['tls_untrusted', /self[- ]signed/i],
      ] as const) {
        const line = exp.output.split('\n').find((l) => l.includes('msg="probe failed"') && l.includes(`probe=${name} `));
        assert.ok(line, `debug line for ${name}:\n${exp.output}`);
        assert.match(line, reason);
      }
    } finally {
      await exp.cleanup();
    }
  });
});
