// Probes beyond HTTP status: expect_body against a real HTTPS server (a body that matches and
// one that does not), the certificate expiry of the chain the server presents (made by
// openssl: the earliest notAfter, here the CA's), and tcp:// probes of a listener and a
// closed port.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Exporter } from './helpers/exporter.js';
import { find, value, type ParsedSample } from './helpers/metrics.js';
import { freePort } from './helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

function openssl(dir: string, args: string[]): string {
  return execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
}

/** notAfter of a PEM certificate, unix seconds, as openssl prints it. */
function notAfter(dir: string, cert: string): number {
  const out = openssl(dir, ['x509', '-enddate', '-noout', '-in', cert]).trim(); // notAfter=Dec  3 22:40:01 2026 GMT
  return Date.parse(out.replace(/^notAfter=/, '')) / 1000;
}

describe('probes: body, certificate expiry, tcp', () => {
  let dir: string;
  let server: https.Server;
  let listener: net.Server;
  let exp: Exporter;
  let httpsPort: number;
  let tcpPort: number;
  let closedPort: number;
  let caNotAfter: number;
  let leafNotAfter: number;

  before(async () => {
    dir = makeTmpDir('hostaudit-probe-tls-');
    // A CA valid for 3 days signing a server certificate valid for 20: the chain's earliest
    // notAfter is the CA's, which a probe looking at the leaf alone would miss.
    openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3', '-subj', '/CN=probe test CA']);
    openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
    writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '20', '-extfile', 'server.ext']);
    caNotAfter = notAfter(dir, 'ca.crt');
    leafNotAfter = notAfter(dir, 'server.crt');
    assert.ok(caNotAfter < leafNotAfter);
    const chain = readFileSync(path.join(dir, 'server.crt'), 'utf8') + readFileSync(path.join(dir, 'ca.crt'), 'utf8');
    server = https.createServer({ cert: chain, key: readFileSync(path.join(dir, 'server.key')) }, (req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/health') res.end('{"status": "ok", "feeds": 3}');
      else if (req.url === '/big') res.end(`${'x'.repeat(200_000)}"status": "ok"`);
      else res.end('{"status": "degraded"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    httpsPort = (server.address() as net.AddressInfo).port;
    listener = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    tcpPort = (listener.address() as net.AddressInfo).port;
    closedPort = await freePort();
    const re = '"status":\\s*"ok"';
    exp = await Exporter.start({
      config: {
        probes: [
          { name: 'healthy', url: `https://127.0.0.1:${httpsPort}/health`, expect_body: re, insecure_skip_verify: true },
          { name: 'degraded', url: `https://127.0.0.1:${httpsPort}/degraded`, expect_body: re, insecure_skip_verify: true },
          { name: 'beyond', url: `https://127.0.0.1:${httpsPort}/big`, expect_body: re, insecure_skip_verify: true },
          { name: 'plain', url: `https://127.0.0.1:${httpsPort}/degraded`, insecure_skip_verify: true },
          { name: 'coordinator', url: `tcp://127.0.0.1:${tcpPort}` },
          { name: 'gone', url: `tcp://127.0.0.1:${closedPort}`, timeout: '2s' },
        ],
      },
    });
  });

  after(async () => {
    await exp?.cleanup();
    server?.close();
    listener?.close();
    if (dir) removeTmpDir(dir);
  });

  let samples: ParsedSample[];
  const of = (metric: string, probe: string): number | undefined => value(samples, metric, { probe });

  it('succeeds only when the body matches expect_body (within its first 64 KiB)', async () => {
    samples = await exp.scrape();
    assert.equal(of('hostaudit_probe_success', 'healthy'), 1);
    assert.equal(of('hostaudit_probe_success', 'degraded'), 0);
    assert.equal(of('hostaudit_probe_status_code', 'degraded'), 200, 'the answer came; the body did not match');
    assert.equal(of('hostaudit_probe_success', 'beyond'), 0, 'the match lies past the bounded read');
    assert.equal(of('hostaudit_probe_success', 'plain'), 1, 'no expect_body: any 2xx');
  });

  it("gives the earliest notAfter of the server's chain", () => {
    for (const p of ['healthy', 'degraded', 'plain']) assert.equal(of('hostaudit_probe_tls_cert_expiry_timestamp_seconds', p), caNotAfter, p);
    assert.equal(find(samples, 'hostaudit_probe_tls_cert_expiry_timestamp_seconds', { probe: 'coordinator' }).length, 0);
  });

  it('probes tcp:// by opening a connection: a listener succeeds, a closed port does not', () => {
    assert.equal(of('hostaudit_probe_success', 'coordinator'), 1);
    assert.equal(of('hostaudit_probe_status_code', 'coordinator'), 0);
    assert.equal(of('hostaudit_probe_success', 'gone'), 0);
    assert.equal(find(samples, 'hostaudit_probe_success', { probe: 'coordinator' })[0]?.labels.url, `tcp://127.0.0.1:${tcpPort}`);
    assert.match(exp.output, /msg="probe failed" probe=gone .*ECONNREFUSED/);
  });
});
