import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { DEFAULT_SUPERVISOR_URLS, loadConfigFile, parseConfig, readSupervisorPassword } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'hostaudit-cfg-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

function problem(text: string): string {
  try {
    loadConfigFile(write('bad.yml', text), {});
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.ok(!err.message.includes('\n'), 'one line');
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

describe('config', () => {
  it('loads the SPEC example with every key', () => {
    const pass = write('supervisor.pass', 'pw\n');
    const f = write(
      'full.yml',
      `supervisor:
  url: http://127.0.0.1:9001/RPC2
  username: auditor
  password_file: ${pass}
  timeout: 5s
paths:
  - name: logs
    path: /srv/trading/logs
    modified_within: [10m, 1h]
  - name: data
    path: /srv/trading/data
databases:
  - /srv/trading/data/**/*.db
probes:
  - name: web
    url: http://127.0.0.1:3000/health
    timeout: 2s
critical_files:
  - /srv/trading/config/production.yaml
process_names: [python]
scan_interval: 60s
`,
    );
    const c = loadConfigFile(f, {});
    assert.deepEqual(c.supervisor.urls, ['http://127.0.0.1:9001/RPC2']);
    assert.equal(c.supervisor.username, 'auditor');
    assert.equal(c.supervisor.timeoutMs, 5000);
    assert.equal(readSupervisorPassword(c.supervisor, {}), 'pw');
    assert.deepEqual(c.paths[0], {
      name: 'logs',
      path: '/srv/trading/logs',
      modifiedWithin: [
        { label: '10m', ms: 600_000 },
        { label: '1h', ms: 3_600_000 },
      ],
    });
    assert.deepEqual(c.databases, ['/srv/trading/data/**/*.db']);
    assert.deepEqual(c.probes, [{ name: 'web', url: 'http://127.0.0.1:3000/health', timeoutMs: 2000, insecureSkipVerify: false }]);
    assert.deepEqual(c.criticalFiles, ['/srv/trading/config/production.yaml']);
    assert.deepEqual(c.processNames, ['python']);
    assert.equal(c.scanIntervalMs, 60_000);
  });

  it('uses the built-in defaults for an empty file and for missing sections', () => {
    const c = loadConfigFile(write('empty.yml', ''), {});
    assert.deepEqual(c.supervisor.urls, DEFAULT_SUPERVISOR_URLS);
    assert.deepEqual(c.paths, []);
    assert.equal(c.scanIntervalMs, 60_000);
  });

  it('resolves relative paths against the config file directory', () => {
    const c = parseConfig(parse('paths: [{name: logs, path: logs}]\ncritical_files: [conf/a.yaml]'), '/etc/hostaudit/x.yml');
    assert.equal(c.paths[0]?.path, '/etc/hostaudit/logs');
    assert.equal(c.criticalFiles[0], '/etc/hostaudit/conf/a.yaml');
  });

  it('takes the password from the environment when no password_file is given', () => {
    const c = parseConfig(parse('supervisor: {username: u}'), '/x.yml', '/', { HOSTAUDIT_SUPERVISOR_PASSWORD: 'envpw' });
    assert.equal(readSupervisorPassword(c.supervisor, { HOSTAUDIT_SUPERVISOR_PASSWORD: 'envpw' }), 'envpw');
  });

  it('names the file, the key and the problem in one line', () => {
    assert.match(problem('supervisor:\n  timeout: 5x\n'), /bad\.yml: supervisor\.timeout: must be a duration.*"5x"/);
    assert.match(problem('supervisor:\n  tiemout: 5s\n'), /bad\.yml: supervisor\.tiemout: unknown key/);
    assert.match(problem('bogus: 1\n'), /bad\.yml: bogus: unknown key/);
    assert.match(problem('paths: {name: x}\n'), /paths: must be a list/);
    assert.match(problem('paths:\n  - path: /x\n'), /paths\[0\]\.name: must be a non-empty string/);
    assert.match(problem('paths:\n  - {name: a, path: /x, modified_within: [10q]}\n'), /paths\[0\]\.modified_within\[0\]: must be a duration/);
    assert.match(problem('paths:\n  - {name: a, path: /x}\n  - {name: a, path: /y}\n'), /paths\[1\]\.name: duplicate name/);
    assert.match(problem('probes:\n  - {name: w, url: "ftp://x"}\n'), /probes\[0\]\.url: must be http/);
    assert.match(problem('probes:\n  - {name: w, url: "not a url"}\n'), /probes\[0\]\.url: is not a valid URL/);
    assert.match(problem('supervisor:\n  url: tcp://x\n'), /supervisor\.url: must be unix/);
    assert.match(problem('supervisor:\n  url: http://u:p@host:9001/RPC2\n'), /supervisor\.url: must not contain credentials/);
    assert.match(problem('scan_interval: 0s\n'), /scan_interval: must be greater than 0/);
    assert.match(problem('process_names: python\n'), /process_names: must be a list/);
    assert.match(problem('supervisor:\n  password_file: /nonexistent/pass\n'), /supervisor\.password_file: cannot read \/nonexistent\/pass: ENOENT/);
  });

  it('reports YAML syntax errors with their position', () => {
    assert.match(problem('paths: [\n'), /bad\.yml: line \d+ column \d+: invalid YAML/);
    assert.match(problem('a: 1\na: 2\n'), /invalid YAML/);
  });

  it('reports an unreadable config file', () => {
    assert.throws(
      () => loadConfigFile(path.join(dir, 'missing.yml'), {}),
      (e: unknown) => e instanceof ConfigError && /missing\.yml: cannot read config file: ENOENT/.test(e.message),
    );
  });
});
