// exporter-toolkit's own web-config cases (web/testdata and web/tls_config_test.go), written
// again as fixtures here (test/fixtures/web-config): what toolkit refuses is refused with one
// line naming the key, what it accepts is accepted, and the TLS cases are served by the real
// server (startExporter in process) to Node's real TLS client.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import { loadWebConfig } from '../src/http/web-config.js';
import { redact, silentLogger } from '../src/log.js';
import { startExporter, type RunningExporter } from '../src/serve.js';
import { httpsGet, makeCerts, type TestCerts } from './helpers/certs.js';
import { ROOT } from './helpers/exporter.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'web-config');
const dir = makeTmpDir('hostaudit-toolkit-');
let certs: TestCerts;
let selfSigned: { cert: Buffer; key: Buffer };
let sanClient: { cert: Buffer; key: Buffer };

before(() => {
  certs = makeCerts(dir);
  // Fixtures name server.crt, ca.crt ... relative to themselves: they are loaded from beside the certificates.
  for (const f of readdirSync(FIXTURES)) copyFileSync(path.join(FIXTURES, f), path.join(dir, f));
  const openssl = (args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  };
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'self.key', '-out', 'self.crt', '-days', '2', '-subj', '/CN=nobody vouches']);
  selfSigned = { cert: readFileSync(path.join(dir, 'self.crt')), key: readFileSync(path.join(dir, 'self.key')) };
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'san.key', '-out', 'san.csr', '-subj', '/CN=scraper']);
  writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=DNS:scraper.example,DNS:other.example\nextendedKeyUsage=clientAuth\n');
  openssl(['x509', '-req', '-in', 'san.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'san.crt', '-days', '2', '-extfile', 'san.ext']);
  sanClient = { cert: readFileSync(path.join(dir, 'san.crt')), key: readFileSync(path.join(dir, 'san.key')) };
});
after(() => removeTmpDir(dir));

const load = (name: string): ReturnType<typeof loadWebConfig> => loadWebConfig(path.join(dir, name));

describe('exporter-toolkit web configs it refuses are refused, with one line naming the key', () => {
  const cases: Array<[string, RegExp]> = [
    ['cert-file-empty.bad.yml', /tls_server_config\.cert_file: missing one of cert or cert_file/],
    ['cert-inline-empty.bad.yml', /tls_server_config\.cert_file: missing one of cert or cert_file/],
    ['key-file-empty.bad.yml', /tls_server_config\.key_file: missing one of key or key_file/],
    ['key-inline-empty.bad.yml', /tls_server_config\.key_file: missing one of key or key_file/],
    ['cert-and-key-empty.bad.yml', /tls_server_config\.cert_file: missing one of cert or cert_file/],
    ['cert-file-missing.bad.yml', /tls_server_config\.cert_file: cannot read .*no-such\.crt: ENOENT/],
    ['key-file-missing.bad.yml', /tls_server_config\.key_file: cannot read .*no-such\.key: ENOENT/],
    ['client-ca-without-policy.bad.yml', /tls_server_config\.client_ca_file: client CA's have been configured without a Client Auth Policy/],
    ['client-ca-dev-null-without-policy.bad.yml', /without a Client Auth Policy/],
    ['client-ca-missing.bad.yml', /tls_server_config\.client_ca_file: cannot read .*no-such-ca\.crt: ENOENT/],
    ['user-plain-password.bad.yml', /basic_auth_users\.carol: must be a bcrypt hash/],
    ['cipher-invented.bad.yml', /tls_server_config\.cipher_suites: unknown cipher: TLS_ECDHE_ECDSA_WITH_AES_512_GCM_SHA1024/],
    ['curve-invented.bad.yml', /tls_server_config\.curve_preferences: unknown curve: CurveP999/],
    ['tls-version-invented.bad.yml', /tls_server_config\.min_version: unknown TLS version/],
    ['tls11-min.bad.yml', /tls_server_config\.min_version: TLS11 is not supported: Node's OpenSSL refuses TLS 1\.0 and 1\.1/],
    ['tls10-max.bad.yml', /tls_server_config\.max_version: TLS10 is not supported/],
    ['header-nosniff-wrong.bad.yml', /http_server_config\.headers\.X-Content-Type-Options: invalid value: expected one of nosniff/],
    ['header-frame-options-wrong.bad.yml', /http_server_config\.headers\.X-Frame-Options: invalid value: expected one of deny, sameorigin/],
    ['header-not-allowed.bad.yml', /http_server_config\.headers\.Content-Type: unknown key/],
    ['junk.bad.yml', /must be a mapping, got a string/],
    ['junk-key.bad.yml', /tls_server_config\.certfile: unknown key/],
    ['client-auth-invalid.bad.yml', /tls_server_config\.client_auth_type: invalid ClientAuth/],
    ['http2-cipher-missing.bad.yml', /tls_server_config\.cipher_suites: TLSConfig\.CipherSuites is missing an HTTP\/2-required/],
  ];
  for (const [file, re] of cases) {
    it(file, () => {
      assert.throws(() => load(file), (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.match(e.message, re);
        assert.ok(!e.message.includes('\n'), 'one line');
        return true;
      });
    });
  }
});

describe('exporter-toolkit web configs it accepts are accepted', () => {
  it('an empty file: plain HTTP, no auth', () => {
    const c = load('empty.good.yml');
    assert.equal(c.tls, undefined);
    assert.equal(c.basicAuthUsers.size, 0);
  });

  it('headers, with an unquoted YAML number read as its text', () => {
    const c = load('headers.good.yml');
    assert.deepEqual(c.headers, {
      'X-Frame-Options': 'sameorigin',
      'Strict-Transport-Security': 'max-age=63072000; includeSubDomains; preload',
      'X-Content-Type-Options': 'nosniff',
      'X-XSS-Protection': '0',
      'Content-Security-Policy': "default-src 'none'; img-src 'self'",
    });
  });

  it('users, with TLS and without', () => {
    assert.deepEqual([...load('users.good.yml').basicAuthUsers.keys()], ['alice', 'bob']);
    assert.equal(load('users-no-tls.good.yml').tls, undefined);
  });

  it('every cipher suite and curve name Go knows, and prefer_server_cipher_suites', () => {
    assert.match(load('all-ciphers.good.yml').tls?.ciphers ?? '', /^ECDHE-ECDSA-AES128-GCM-SHA256:.*:ECDHE-RSA-AES256-SHA$/);
    assert.equal(load('all-curves.good.yml').tls?.ecdhCurve, 'P-256:P-384:P-521:X25519');
    assert.equal(load('some-ciphers-no-order.good.yml').tls?.honorCipherOrder, false);
    assert.equal(load('no-http2.good.yml').tls?.ciphers, 'ECDHE-ECDSA-AES256-GCM-SHA384');
  });

  it('every client_auth_type, RequireAndVerifyClientCert even without a CA (then no client verifies)', () => {
    assert.equal(load('verify-if-given.good.yml').tls?.clientAuth, 'VerifyClientCertIfGiven');
    assert.equal(load('require-any.good.yml').tls?.clientAuth, 'RequireAnyClientCert');
    assert.equal(load('require-and-verify-no-ca.good.yml').tls?.clientAuth, 'RequireAndVerifyClientCert');
    assert.deepEqual(load('allowed-sans.good.yml').tls?.allowedSans, ['one', 'scraper.example', 'two']);
  });

  it('inline cert and key, and the key is never echoed', () => {
    const key = readFileSync(certs.serverKey, 'utf8');
    const f = path.join(dir, 'inline.good.yml');
    const indent = (pem: string): string => pem.trim().split('\n').map((l) => `    ${l}`).join('\n');
    writeFileSync(f, `tls_server_config:\n  cert: |\n${indent(readFileSync(certs.serverCert, 'utf8'))}\n  key: |\n${indent(key)}\n`);
    const c = loadWebConfig(f);
    assert.equal(c.tls?.certFile, '(inline cert)');
    assert.equal(c.tls?.key.toString().trim(), key.trim());
    assert.ok(!redact(`oops ${key}`).includes(key.trim().split('\n')[1] as string), 'the inline key is registered as a secret');
  });

  it('rate_limit with interval 0 is off', () => {
    assert.equal(load('rate-limit-off.good.yml').rateLimit, undefined);
    assert.deepEqual(load('rate-limit-1s.good.yml').rateLimit, { intervalMs: 1000, burst: 0 });
  });
});

describe('exporter-toolkit TLS cases served to a real client', () => {
  const running: RunningExporter[] = [];
  const serve = async (file: string): Promise<string> => {
    const config = defaultConfig();
    config.supervisor.urls = [`unix://${path.join(dir, 'nobody.sock')}`];
    const e = await startExporter(
      { command: 'serve', listenAddress: '127.0.0.1:0', telemetryPath: '/metrics', webConfigFile: path.join(dir, file), logLevel: 'error', logFormat: 'logfmt', procfs: '/proc' },
      config,
      silentLogger,
    );
    running.push(e);
    return `https://127.0.0.1:${e.address.port}/-/healthy`;
  };
  after(async () => {
    for (const e of running) await e.close();
  });

  it('VerifyClientCertIfGiven: no certificate or one from the CA is let in, an unknown one is not', async () => {
    const url = await serve('verify-if-given.good.yml');
    assert.equal((await httpsGet(url, { ca: certs.ca })).status, 200);
    assert.equal((await httpsGet(url, { ca: certs.ca, cert: certs.clientCertPem, key: certs.clientKeyPem })).status, 200);
    await assert.rejects(httpsGet(url, { ca: certs.ca, ...selfSigned }));
  });

  it('RequireAnyClientCert: any certificate is let in, none is not', async () => {
    const url = await serve('require-any.good.yml');
    assert.equal((await httpsGet(url, { ca: certs.ca, ...selfSigned })).status, 200);
    await assert.rejects(httpsGet(url, { ca: certs.ca }));
  });

  it('cipher_suites limit TLS 1.2 to the suites named; max_version TLS12 refuses TLS 1.3', async () => {
    const url = await serve('some-ciphers.good.yml');
    const ok = await httpsGet(url, { ca: certs.ca, ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    assert.equal(ok.status, 200);
    assert.equal(ok.protocol, 'TLSv1.2');
    await assert.rejects(httpsGet(url, { ca: certs.ca, ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' }), /handshake failure|no shared cipher|ECONNRESET/i);
    await assert.rejects(httpsGet(url, { ca: certs.ca, minVersion: 'TLSv1.3' }), /protocol version|unsupported protocol|ECONNRESET/i);
  });

  it('curve_preferences limit the key exchange groups', async () => {
    const url = await serve('some-curves.good.yml');
    assert.equal((await httpsGet(url, { ca: certs.ca, ecdhCurve: 'P-521' })).status, 200);
    await assert.rejects(httpsGet(url, { ca: certs.ca, ecdhCurve: 'X25519' }), /handshake failure|ECONNRESET/i);
  });

  it('client_allowed_sans: a certificate naming an allowed SAN is let in, one that does not is not', async () => {
    const good = await serve('allowed-sans.good.yml');
    assert.equal((await httpsGet(good, { ca: certs.ca, ...sanClient })).status, 200);
    const other = await serve('allowed-sans-mismatch.good.yml');
    await assert.rejects(httpsGet(other, { ca: certs.ca, ...sanClient }));
  });

  it('rate_limit with burst 0 answers 429 Too Many Requests', async () => {
    const e = await serve('rate-limit-1s.good.yml');
    const res = await fetch(e.replace('https', 'http'));
    assert.equal(res.status, 429);
    assert.equal(await res.text(), 'Too Many Requests\n');
  });
});
