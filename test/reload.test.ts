// SIGHUP and POST /-/reload with real signals and real files: a new probe appears; a broken
// file keeps the old config serving and sets hostaudit_config_last_reload_successful to 0;
// a new web config swaps basic auth. And --no-collector.NAME leaves that collector's series out.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { stringify } from 'yaml';
import { httpsGet, makeCerts } from './helpers/certs.js';
import { Exporter, runCli } from './helpers/exporter.js';
import { find, value, type ParsedSample } from './helpers/metrics.js';
import { sleep } from './helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

/** Scrapes until `pred` holds (a reload is asynchronous to the signal). */
async function scrapeUntil(e: Exporter, pred: (s: ParsedSample[]) => boolean, init: RequestInit = {}): Promise<ParsedSample[]> {
  let s: ParsedSample[] = [];
  for (let i = 0; i < 300; i++) {
    const res = await e.get('/metrics', init);
    if (res.status === 200) {
      const { parseMetrics } = await import('./helpers/metrics.js');
      s = parseMetrics(await res.text());
      if (pred(s)) return s;
    }
    await sleep(100);
  }
  assert.fail(`condition not reached; last scrape had ${s.length} samples; exporter log:\n${e.output}`);
}

describe('reload', () => {
  let target: http.Server;
  let url: string;
  let dir: string;

  before(async () => {
    target = http.createServer((_req, res) => res.end('ok\n'));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(target.address() as AddressInfo).port}/`;
    dir = makeTmpDir('hostaudit-reload-');
  });
  after(async () => {
    await new Promise<void>((r) => target.close(() => r()));
    removeTmpDir(dir);
  });

  it('SIGHUP: a new probe appears; a broken file keeps the old config and sets the gauge to 0', async () => {
    const file = path.join(dir, 'sighup.yml');
    writeFileSync(file, stringify({ probes: [{ name: 'first', url }] }));
    const e = await Exporter.start({ args: [`--config.file=${file}`] });
    try {
      let s = await e.scrape();
      assert.equal(value(s, 'hostaudit_probe_success', { probe: 'first' }), 1);
      assert.equal(value(s, 'hostaudit_probe_success', { probe: 'second' }), undefined);
      assert.equal(value(s, 'hostaudit_config_last_reload_successful'), 1);
      const startedAt = value(s, 'hostaudit_config_last_reload_success_timestamp_seconds') as number;
      assert.ok(startedAt > 0);

      writeFileSync(file, stringify({ probes: [{ name: 'first', url }, { name: 'second', url }] }));
      await sleep(20); // the timestamp has a millisecond resolution: let one pass
      e.child.kill('SIGHUP');
      s = await scrapeUntil(e, (x) => value(x, 'hostaudit_probe_success', { probe: 'second' }) === 1);
      assert.equal(value(s, 'hostaudit_config_last_reload_successful'), 1);
      assert.ok((value(s, 'hostaudit_config_last_reload_success_timestamp_seconds') as number) > startedAt);
      assert.match(e.output, /msg="config reloaded"/);

      writeFileSync(file, 'probes:\n  - name: third\n    url: [broken\n');
      e.child.kill('SIGHUP');
      s = await scrapeUntil(e, (x) => value(x, 'hostaudit_config_last_reload_successful') === 0);
      assert.equal(value(s, 'hostaudit_probe_success', { probe: 'second' }), 1, 'the old config still serves');
      assert.equal(value(s, 'hostaudit_probe_success', { probe: 'third' }), undefined);
      const failed = e.output.split('\n').filter((l) => l.includes('reload failed'));
      assert.equal(failed.length, 1, e.output);
      assert.match(failed[0] as string, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: line \\d+ column \\d+: invalid YAML`));
      assert.equal(e.child.exitCode, null, 'still running');
    } finally {
      await e.cleanup();
    }
  });

  it('POST /-/reload: 200 with a good file, 500 with the error line for a bad one; other methods stay refused', async () => {
    const file = path.join(dir, 'post.yml');
    writeFileSync(file, stringify({ probes: [{ name: 'first', url }] }));
    const e = await Exporter.start({ args: [`--config.file=${file}`] });
    try {
      writeFileSync(file, stringify({ probes: [{ name: 'first', url }], paths: [{ name: 'here', path: dir }], unknown_key: 1 }));
      let res = await e.get('/-/reload', { method: 'POST' });
      assert.equal(res.status, 500);
      assert.match(await res.text(), /post\.yml: unknown_key: unknown key/);
      assert.equal(value(await e.scrape(), 'hostaudit_config_last_reload_successful'), 0);

      writeFileSync(file, stringify({ probes: [{ name: 'renamed', url }] }));
      res = await e.get('/-/reload', { method: 'POST' });
      assert.equal(res.status, 200);
      const s = await e.scrape();
      assert.equal(value(s, 'hostaudit_config_last_reload_successful'), 1);
      assert.equal(value(s, 'hostaudit_probe_success', { probe: 'renamed' }), 1);
      assert.equal(value(s, 'hostaudit_probe_success', { probe: 'first' }), undefined, 'the old collectors are gone');

      assert.equal((await e.get('/-/reload', { method: 'PUT' })).status, 405);
      assert.equal((await e.get('/metrics', { method: 'POST' })).status, 405);
    } finally {
      await e.cleanup();
    }
  });

  it('swaps basic auth from the web config; /-/reload is behind it', async () => {
    const web = path.join(dir, 'web.yml');
    const auth = (user: string, pass: string): RequestInit => ({ headers: { authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` } });
    writeFileSync(web, stringify({ basic_auth_users: { old: bcrypt.hashSync('old-pass', 4) } }));
    const e = await Exporter.start({ args: [`--web.config.file=${web}`] });
    try {
      assert.equal((await e.get('/metrics', auth('old', 'old-pass'))).status, 200);
      assert.equal((await e.get('/-/reload', { method: 'POST' })).status, 401, 'no reload without credentials');
      writeFileSync(web, stringify({ basic_auth_users: { new: bcrypt.hashSync('new-pass', 4) } }));
      const res = await e.get('/-/reload', { method: 'POST', ...auth('old', 'old-pass') });
      assert.equal(res.status, 200, await res.text());
      assert.equal((await e.get('/metrics', auth('old', 'old-pass'))).status, 401);
      assert.equal((await e.get('/metrics', auth('new', 'new-pass'))).status, 200);
    } finally {
      await e.cleanup();
    }
  });
});

describe('reload, TLS', () => {
  it('serves the new certificate after SIGHUP; switching TLS off is refused and the old one stays', async () => {
    const dir = makeTmpDir('hostaudit-reload-tls-');
    const a = makeCerts(makeTmpDir('hostaudit-certs-a-'));
    const b = makeCerts(makeTmpDir('hostaudit-certs-b-'));
    const web = path.join(dir, 'web.yml');
    const tls = (c: typeof a): string => stringify({ tls_server_config: { cert_file: c.serverCert, key_file: c.serverKey } });
    writeFileSync(web, tls(a));
    const e = await Exporter.start({ args: [`--web.config.file=${web}`] });
    const url = `${e.url.replace('http:', 'https:')}/-/healthy`;
    const trusts = (ca: Buffer): Promise<boolean> => httpsGet(url, { ca }).then((r) => r.status === 200, () => false);
    try {
      assert.equal(await trusts(a.ca), true);
      assert.equal(await trusts(b.ca), false);
      writeFileSync(web, tls(b));
      e.child.kill('SIGHUP');
      for (let i = 0; i < 300 && !(await trusts(b.ca)); i++) await sleep(100);
      assert.equal(await trusts(b.ca), true, 'the new certificate is served');
      assert.equal(await trusts(a.ca), false);

      writeFileSync(web, stringify({ basic_auth_users: {} }));
      e.child.kill('SIGHUP');
      for (let i = 0; i < 300 && !e.output.includes('reload failed'); i++) await sleep(100);
      assert.match(e.output, /reload failed.*switching TLS on or off needs a restart/);
      assert.equal(await trusts(b.ca), true, 'still TLS with the certificate that was good');
    } finally {
      await e.cleanup();
      for (const d of [dir, a.dir, b.dir]) removeTmpDir(d);
    }
  });
});

describe('--no-collector.NAME', () => {
  it('--no-collector.host leaves no hostaudit_host_* series and no host collector series', async () => {
    const e = await Exporter.start({ config: { process_names: ['node'], critical_files: ['/etc/hostname'] }, args: ['--no-collector.host'] });
    try {
      const s = await e.scrape();
      assert.deepEqual(s.filter((x) => x.name.startsWith('hostaudit_host_')), []);
      assert.deepEqual(find(s, 'hostaudit_collector_success', { collector: 'host' }), []);
      assert.deepEqual(find(s, 'hostaudit_collector_duration_seconds', { collector: 'host' }), []);
      // The others still run.
      assert.equal(value(s, 'hostaudit_collector_success', { collector: 'files' }), 1);
      assert.doesNotMatch(e.output, /collectors=[^ ]*host/);
    } finally {
      await e.cleanup();
    }
  });

  it('applies to audit too', async () => {
    const dir = makeTmpDir('hostaudit-nocollector-');
    try {
      const file = path.join(dir, 'hostaudit.yml');
      writeFileSync(file, stringify({ critical_files: ['/etc/hostname'] }));
      const r = await runCli(['audit', `--config.file=${file}`, '--format=json', '--sample=1s', '--no-collector.host', '--no-collector.supervisor', '--no-collector.filesystem'], { cwd: dir });
      const report = JSON.parse(r.stdout) as { collectors: Array<{ collector: string }> };
      assert.deepEqual(report.collectors.map((c) => c.collector).sort(), ['files']);
    } finally {
      removeTmpDir(dir);
    }
  });
});
