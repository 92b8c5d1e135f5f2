// --web.config.file: TLS with certificates made here by openssl, checked by Node's real TLS
// client; basic auth against bcrypt hashes; every config mistake is exit 2 naming file and key.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { stringify } from 'yaml';
import { BasicAuth, parseWebConfig } from '../src/http/web-config.js';
import { ConfigError } from '../src/errors.js';
import { httpsGet, makeCerts, type TestCerts } from './helpers/certs.js';
import { Exporter, runCli } from './helpers/exporter.js';
import { assertOneLineError } from './helpers/assert-cli.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

const dir = makeTmpDir('hostaudit-webcfg-');
let certs: TestCerts;
const PASSWORD = 'scrape-me-Ω-9f3a';
const HASH = bcrypt.hashSync(PASSWORD, 8);
// Nothing is supervised here: a socket path nobody listens on keeps the supervisor collector quiet.
const CONFIG = { supervisor: { url: `unix://${path.join(dir, 'no-supervisord.sock')}` } };

before(() => {
  certs = makeCerts(dir);
});
after(() => removeTmpDir(dir));

function webConfig(name: string, doc: unknown): string {
  const f = path.join(dir, name);
  writeFileSync(f, typeof doc === 'string' ? doc : stringify(doc));
  return f;
}

function portOf(e: Exporter): number {
  return Number(new URL(e.url).port);
}

/** A plain-HTTP request to a port; resolves with the status, or the error code when the server hangs up. */
function plainGet(port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/metrics', agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(`HTTP ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('web config: TLS', () => {
  let exp: Exporter;
  before(async () => {
    const f = webConfig('tls.yml', {
      tls_server_config: { cert_file: certs.serverCert, key_file: certs.serverKey },
      http_server_config: { headers: { 'X-Content-Type-Options': 'nosniff' } },
    });
    exp = await Exporter.start({ config: CONFIG, args: [`--web.config.file=${f}`] });
  });
  after(async () => exp?.cleanup());

  it('logs that TLS is on', () => {
    assert.match(exp.output, /msg=listening .*tls=on basic_auth=off/);
  });

  it('serves /metrics over HTTPS with a certificate the client verifies against the test CA', async () => {
    const r = await httpsGet(`https://127.0.0.1:${portOf(exp)}/metrics`, { ca: certs.ca });
    assert.equal(r.status, 200);
    assert.match(r.body, /^hostaudit_exporter_build_info\{/m);
    assert.equal(r.protocol, 'TLSv1.3');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    const byName = await httpsGet(`https://localhost:${portOf(exp)}/-/healthy`, { ca: certs.ca });
    assert.equal(byName.status, 200);
  });

  it('is refused by a client that does not trust the issuing CA', async () => {
    await assert.rejects(httpsGet(`https://127.0.0.1:${portOf(exp)}/metrics`, { ca: certs.otherCa }), (err: NodeJS.ErrnoException) => {
      assert.match(String(err.code), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
      return true;
    });
  });

  it('serves no metrics over plain HTTP on the TLS port', async () => {
    const r = await plainGet(portOf(exp));
    assert.notEqual(r, 'HTTP 200', 'plain HTTP must not be answered with metrics');
  });

  it('drops a client that sends one byte of a ClientHello and stalls, within seconds (not 120 s)', async () => {
    const t0 = Date.now();
    const closedAfter = await new Promise<number>((resolve, reject) => {
      const s = net.connect(portOf(exp), '127.0.0.1', () => s.write(Buffer.from([0x16])));
      s.on('error', () => undefined);
      s.on('close', () => resolve(Date.now() - t0));
      setTimeout(() => {
        s.destroy();
        reject(new Error('the half-open handshake was still held after 30 s'));
      }, 30_000).unref();
    });
    assert.ok(closedAfter >= 1000, `closed after ${closedAfter} ms: too early to be the handshake timeout`);
    // And the server still answers.
    assert.equal((await httpsGet(`https://127.0.0.1:${portOf(exp)}/-/healthy`, { ca: certs.ca })).status, 200);
  });

  it('accepts TLS 1.2 by default (exporter-toolkit minimum)', async () => {
    const r = await httpsGet(`https://127.0.0.1:${portOf(exp)}/-/healthy`, { ca: certs.ca, maxVersion: 'TLSv1.2' });
    assert.equal(r.status, 200);
    assert.equal(r.protocol, 'TLSv1.2');
  });
});

describe('web config: min_version TLS13 and a client certificate', () => {
  let exp: Exporter;
  before(async () => {
    const f = webConfig('mtls.yml', {
      tls_server_config: {
        cert_file: certs.serverCert,
        key_file: certs.serverKey,
        min_version: 'TLS13',
        client_auth_type: 'RequireAndVerifyClientCert',
        client_ca_file: certs.caCert,
      },
    });
    exp = await Exporter.start({ config: CONFIG, args: [`--web.config.file=${f}`] });
  });
  after(async () => exp?.cleanup());

  const url = (): string => `https://127.0.0.1:${portOf(exp)}/metrics`;

  it('answers a TLS 1.3 client that presents a certificate signed by client_ca_file', async () => {
    const r = await httpsGet(url(), { ca: certs.ca, cert: certs.clientCertPem, key: certs.clientKeyPem });
    assert.equal(r.status, 200);
    assert.equal(r.protocol, 'TLSv1.3');
  });

  it('refuses a TLS 1.2 client', async () => {
    await assert.rejects(httpsGet(url(), { ca: certs.ca, cert: certs.clientCertPem, key: certs.clientKeyPem, maxVersion: 'TLSv1.2' }));
  });

  it('refuses a client without a certificate', async () => {
    await assert.rejects(httpsGet(url(), { ca: certs.ca }));
  });
});

describe('web config: basic auth', () => {
  let exp: Exporter;
  before(async () => {
    const f = webConfig('auth.yml', {
      tls_server_config: { cert_file: certs.serverCert, key_file: certs.serverKey },
      basic_auth_users: { prometheus: HASH, other: bcrypt.hashSync('other-password', 4) },
    });
    exp = await Exporter.start({ config: CONFIG, args: [`--web.config.file=${f}`] });
  });
  after(async () => exp?.cleanup());

  const get = (p: string, auth?: string) => httpsGet(`https://127.0.0.1:${portOf(exp)}${p}`, { ca: certs.ca, ...(auth ? { auth } : {}) });

  it('answers 200 to the right user and password', async () => {
    const r = await get('/metrics', `prometheus:${PASSWORD}`);
    assert.equal(r.status, 200);
    assert.match(r.body, /hostaudit_exporter_build_info/);
    // The audit page behind the same TLS and basic auth: it names the failure it sees.
    const page = await get('/audit', `prometheus:${PASSWORD}`);
    assert.equal(page.status, 200);
    assert.match(page.body, /supervisord could not be read: unreachable/);
  });

  for (const [what, auth] of [
    ['missing credentials', undefined],
    ['a wrong password', 'prometheus:wrong'],
    ["another user's password", `other:${PASSWORD}`],
    ['an unknown user', `nobody:${PASSWORD}`],
    ['an empty password', 'prometheus:'],
  ] as const) {
    it(`answers 401 with WWW-Authenticate: Basic and no detail to ${what}`, async () => {
      for (const p of ['/metrics', '/', '/audit', '/-/healthy', '/-/ready', '/nope']) {
        const r = await get(p, auth);
        assert.equal(r.status, 401, `${p}`);
        assert.equal(r.headers['www-authenticate'], 'Basic');
        assert.equal(r.body, 'Unauthorized\n');
      }
    });
  }

  it('answers 401 to a malformed Authorization header', async () => {
    for (const h of ['Basic', 'Basic !!!', "Bearer abc", `Basic ${Buffer.from('no-colon').toString('base64')}`]) {
      const r = await httpsGet(`https://127.0.0.1:${portOf(exp)}/metrics`, { ca: certs.ca, headers: { authorization: h } });
      assert.equal(r.status, 401, h);
    }
  });

  it('never writes the hash or the password to its log', async () => {
    await get('/metrics', 'prometheus:wrong');
    await get('/metrics', `prometheus:${PASSWORD}`);
    assert.match(exp.output, /basic_auth=on/);
    assert.ok(!exp.output.includes(HASH));
    assert.ok(!exp.output.includes(PASSWORD));
  });
});

describe('web config: basic auth without TLS', () => {
  let exp: Exporter;
  before(async () => {
    const f = webConfig('auth-plain.yml', { basic_auth_users: { prometheus: HASH } });
    exp = await Exporter.start({ config: CONFIG, args: [`--web.config.file=${f}`] });
  });
  after(async () => exp?.cleanup());

  it('protects plain HTTP too', async () => {
    const denied = await exp.get('/metrics');
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get('www-authenticate'), 'Basic');
    const ok = await exp.get('/metrics', { headers: { authorization: `Basic ${Buffer.from(`prometheus:${PASSWORD}`).toString('base64')}` } });
    assert.equal(ok.status, 200);
  });
});

describe('BasicAuth verification cache', () => {
  const header = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

  it('runs bcrypt once for the same credentials, however many scrapes and however concurrent', async () => {
    const auth = new BasicAuth(new Map([['prometheus', HASH]]));
    const first = await Promise.all(Array.from({ length: 20 }, () => auth.verify(header('prometheus', PASSWORD))));
    assert.deepEqual(new Set(first), new Set([true]));
    for (let i = 0; i < 50; i++) assert.equal(await auth.verify(header('prometheus', PASSWORD)), true);
    assert.equal(auth.comparisons, 1);
  });

  it('remembers a wrong password too, and never accepts it afterwards', async () => {
    const auth = new BasicAuth(new Map([['prometheus', HASH]]));
    for (let i = 0; i < 10; i++) assert.equal(await auth.verify(header('prometheus', 'wrong')), false);
    assert.equal(auth.comparisons, 1);
    assert.equal(await auth.verify(header('prometheus', PASSWORD)), true);
    assert.equal(auth.comparisons, 2);
    assert.equal(await auth.verify(header('prometheus', 'wrong')), false);
  });

  it('does not let an unknown user in through the dummy comparison', async () => {
    const auth = new BasicAuth(new Map([['prometheus', HASH]]));
    assert.equal(await auth.verify(header('ghost', PASSWORD)), false);
    assert.equal(await auth.verify(header('ghost', PASSWORD)), false);
    assert.equal(auth.comparisons, 1, 'unknown users cost one comparison, like known ones');
  });

  it('bounds the bcrypt work a flood of distinct wrong passwords can queue', async () => {
    const auth = new BasicAuth(new Map([['prometheus', HASH]]), { maxQueued: 4 });
    const verdicts = await Promise.all(Array.from({ length: 12 }, (_, i) => auth.verify(header('prometheus', `guess-${i}`))));
    assert.equal(verdicts.filter((v) => v === 'busy').length, 8);
    assert.equal(verdicts.filter((v) => v === false).length, 4);
    assert.equal(auth.comparisons, 4);
    // The queue drained: the right password still gets in.
    assert.equal(await auth.verify(header('prometheus', PASSWORD)), true);
    await auth.close();
  });

  it('keys its cache with a per-process secret: no password and no plain digest of one is kept', async () => {
    const a = new BasicAuth(new Map([['prometheus', HASH]]));
    const b = new BasicAuth(new Map([['prometheus', HASH]]));
    assert.equal(await a.verify(header('prometheus', PASSWORD)), true);
    assert.equal(await b.verify(header('prometheus', PASSWORD)), true);
    const keys = (x: BasicAuth): string[] => [...((x as unknown as { granted: { items: Set<string> } }).granted.items)];
    const [ka, kb] = [keys(a), keys(b)];
    assert.equal(ka.length, 1);
    assert.notEqual(ka[0], kb[0], 'the same credentials give another key in another process');
    const plain = [`prometheus:${PASSWORD}`, `prometheus\0${PASSWORD}`];
    for (const k of ka) for (const p of plain) {
      assert.ok(!k.includes(PASSWORD));
      assert.notEqual(k, createHash('sha256').update(p).digest('base64'));
    }
    await a.close();
    await b.close();
  });

  it('compares an unknown user against a made-up hash of the configured cost, never a cheaper one', async () => {
    const slow = bcrypt.hashSync('x', 9);
    const auth = new BasicAuth(new Map([['prometheus', slow]]));
    assert.equal(await auth.verify(header('ghost', 'x')), false);
    assert.equal(await auth.verify(header('prometheus', 'y')), false);
    assert.deepEqual([...auth.comparisonsByCost], [[9, 2]]);
    await auth.close();
  });

  it('a flood of wrong passwords never evicts the cached verdict of the real scraper', async () => {
    const auth = new BasicAuth(new Map([['prometheus', bcrypt.hashSync(PASSWORD, 4)]]), { deniedCacheSize: 8, grantedCacheSize: 4 });
    assert.equal(await auth.verify(header('prometheus', PASSWORD)), true);
    for (let i = 0; i < 40; i++) assert.equal(await auth.verify(header('prometheus', `wrong-${i}`)), false);
    const before = auth.comparisons;
    assert.equal(await auth.verify(header('prometheus', PASSWORD)), true);
    assert.equal(auth.comparisons, before, 'still cached');
    await auth.close();
  });

  it('runs bcrypt off the event loop', async () => {
    const costly = bcrypt.hashSync('x', 12);
    const auth = new BasicAuth(new Map([['prometheus', costly]]));
    let last = performance.now();
    let worstGap = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      worstGap = Math.max(worstGap, now - last);
      last = now;
    }, 5);
    const t0 = performance.now();
    assert.equal(await auth.verify(header('prometheus', 'wrong')), false);
    const took = performance.now() - t0;
    clearInterval(timer);
    await auth.close();
    // A cost-12 comparison is hundreds of milliseconds; the loop kept turning meanwhile.
    assert.ok(worstGap < took / 2, `the event loop stalled ${worstGap.toFixed(0)} ms of a ${took.toFixed(0)} ms comparison`);
  });
});

describe('web config: mistakes are exit 2 naming the file and the key', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['an unknown top-level key', () => ({ basic_auth_user: { a: HASH } }), /\.yml: basic_auth_user: unknown key/],
    ['an unknown TLS key', () => ({ tls_server_config: { cert_file: certs.serverCert, key_file: certs.serverKey, certfile: 'x' } }), /tls_server_config\.certfile: unknown key/],
    ['a cipher suite Go does not know', () => ({ tls_server_config: { cert_file: certs.serverCert, key_file: certs.serverKey, cipher_suites: ['TLS_RSA_WITH_RC4_128_MD5'] } }), /tls_server_config\.cipher_suites: unknown cipher: TLS_RSA_WITH_RC4_128_MD5/],
    ['a missing cert file', () => ({ tls_server_config: { cert_file: path.join(dir, 'missing.crt'), key_file: certs.serverKey } }), /tls_server_config\.cert_file: cannot read .*missing\.crt: ENOENT/],
    ['a key file that is a directory', () => ({ tls_server_config: { cert_file: certs.serverCert, key_file: dir } }), /tls_server_config\.key_file: cannot read .*: EISDIR/],
    ['a key that does not match the certificate', () => ({ tls_server_config: { cert_file: certs.serverCert, key_file: certs.clientKey } }), /tls_server_config: cert_file .* and key_file .* are not a usable certificate and key/],
    ['a cert file that is not PEM', () => ({ tls_server_config: { cert_file: certs.caKey.replace('ca.key', 'server.ext'), key_file: certs.serverKey } }), /tls_server_config: cert_file .* are not a usable/],
    ['key_file missing', () => ({ tls_server_config: { cert_file: certs.serverCert } }), /tls_server_config\.key_file: missing one of key or key_file/],
    ['a bad min_version', () => ({ tls_server_config: { cert_file: certs.serverCert, key_file: certs.serverKey, min_version: 'TLSv1.3' } }), /tls_server_config\.min_version: unknown TLS version \(one of TLS12, TLS13\)/],
    ['min_version TLS11, which Node will not speak', () => ({ tls_server_config: { cert_file: certs.serverCert, key_file: certs.serverKey, min_version: 'TLS11' } }), /tls_server_config\.min_version: TLS11 is not supported/],
    ['max_version below min_version', () => ({ tls_server_config: { cert_file: certs.serverCert, key_file: certs.serverKey, min_version: 'TLS13', max_version: 'TLS12' } }), /tls_server_config\.max_version: must not be lower than min_version/],
    ['client_ca_file without client_auth_type (exporter-toolkit refuses it)', () => ({ tls_server_config: { cert_file: certs.serverCert, key_file: certs.serverKey, client_ca_file: certs.caCert } }), /tls_server_config\.client_ca_file: client CA's have been configured without a Client Auth Policy/],
    ['a header exporter-toolkit does not allow', () => ({ http_server_config: { headers: { 'Set-Cookie': 'a=b' } } }), /http_server_config\.headers\.Set-Cookie: unknown key/],
  ];
  for (const [what, doc, re] of cases) {
    it(`exits 2 for ${what}`, async () => {
      const f = webConfig(`bad-${what.replace(/\W+/g, '-')}.yml`, doc());
      const r = await runCli([`--web.config.file=${f}`, '--web.listen-address=127.0.0.1:0', `--config.file=${webConfig('c.yml', CONFIG)}`]);
      assert.equal(r.code, 2, r.stderr);
      assertOneLineError(r.stderr, re);
    });
  }

  it('exits 2 for a missing web config file and for broken YAML', async () => {
    const r1 = await runCli([`--web.config.file=${path.join(dir, 'nope.yml')}`, `--config.file=${webConfig('c.yml', CONFIG)}`]);
    assert.equal(r1.code, 2);
    assertOneLineError(r1.stderr, /nope\.yml: cannot read web config file: ENOENT/);
    const f = webConfig('broken.yml', `basic_auth_users:\n  prometheus: "${HASH}\n  x: [\n`);
    const r2 = await runCli([`--web.config.file=${f}`, `--config.file=${webConfig('c.yml', CONFIG)}`]);
    assert.equal(r2.code, 2);
    assertOneLineError(r2.stderr, /broken\.yml: line \d+ column \d+: invalid YAML/);
    assert.ok(!r2.stderr.includes(HASH.slice(7)), 'the hash is not quoted back');
  });

  it('names the user whose hash is not a bcrypt hash, without echoing the value', async () => {
    const secretish = 'plaintext-password-by-mistake';
    const f = webConfig('plain-hash.yml', { basic_auth_users: { prometheus: secretish } });
    const r = await runCli([`--web.config.file=${f}`, `--config.file=${webConfig('c.yml', CONFIG)}`]);
    assert.equal(r.code, 2);
    assertOneLineError(r.stderr, /plain-hash\.yml: basic_auth_users\.prometheus: must be a bcrypt hash/);
    assert.ok(!r.stderr.includes(secretish));
    const truncated = webConfig('short-hash.yml', { basic_auth_users: { prometheus: HASH.slice(0, -1) } });
    const r2 = await runCli([`--web.config.file=${truncated}`, `--config.file=${webConfig('c.yml', CONFIG)}`]);
    assert.equal(r2.code, 2);
    assert.ok(!r2.stderr.includes(HASH.slice(7, -1)));
  });

  it('parses an empty file as plain HTTP without auth, and resolves paths against the file', () => {
    assert.deepEqual(parseWebConfig(null, 'w.yml').basicAuthUsers.size, 0);
    const sub = path.join(dir, 'sub');
    mkdirSync(sub, { recursive: true });
    const cfg = parseWebConfig({ tls_server_config: { cert_file: '../server.crt', key_file: '../server.key' } }, path.join(sub, 'w.yml'), sub);
    assert.equal(cfg.tls?.certFile, certs.serverCert);
    assert.equal(cfg.tls?.minVersion, 'TLSv1.2');
    assert.throws(() => parseWebConfig({ basic_auth_users: { 'a:b': HASH } }, 'w.yml'), (e: unknown) => e instanceof ConfigError && /a:b/.test(e.message));
  });
});
