// The config file and the web config as hostile or careless input, through the one YAML reader:
// what is not a regular file, what is too large, what nests or aliases without bound, what is
// not UTF-8, durations a timer cannot hold, globs and URLs that cannot work. Each is one
// ConfigError naming the file (and the key or the YAML position), found at load, never later.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfigFile, MAX_TIMER_MS } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { loadWebConfig } from '../../src/http/web-config.js';
import { MAX_YAML_BYTES, parseYaml } from '../../src/yaml-file.js';
import { makeTmpDir, removeTmpDir } from '../helpers/tmp.js';

const dir = makeTmpDir('hostaudit-cfgfiles-');
after(() => removeTmpDir(dir));

function write(name: string, text: string | Buffer): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

/** The one-line message of the ConfigError that loading `file` throws. */
function refusal(load: () => unknown): string {
  try {
    load();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `a ConfigError, got ${String(err)}`);
    assert.ok(!err.message.includes('\n'), 'one line');
    return err.message;
  }
  return assert.fail('expected a ConfigError');
}

const BOMB = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)].join('\n');

describe('the YAML reader', () => {
  it('refuses a FIFO, /dev/zero and a directory at once, naming what it is', () => {
    const fifo = path.join(dir, 'fifo.yml');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    // Before: readFileSync waited for a writer (a FIFO) or for the end (/dev/zero) forever.
    assert.match(refusal(() => loadConfigFile(fifo, {})), /fifo\.yml: cannot read config file: a FIFO, not a regular file$/);
    assert.match(refusal(() => loadConfigFile('/dev/zero', {})), /^\/dev\/zero: cannot read config file: a character device, not a regular file$/);
    const d = path.join(dir, 'a-dir.yml');
    mkdirSync(d);
    assert.match(refusal(() => loadConfigFile(d, {})), /a-dir\.yml: cannot read config file: a directory, not a regular file$/);
    assert.match(refusal(() => loadWebConfig(fifo)), /fifo\.yml: cannot read web config file: a FIFO, not a regular file$/);
  });

  it('refuses a file larger than the cap, and reads one at the cap', () => {
    const big = write('big.yml', `# ${'x'.repeat(MAX_YAML_BYTES)}\n`);
    assert.match(refusal(() => loadConfigFile(big, {})), new RegExp(`big\\.yml: cannot read config file: larger than ${MAX_YAML_BYTES} bytes`));
    const atCap = write('at-cap.yml', `scan_interval: 30s\n# ${'x'.repeat(MAX_YAML_BYTES - 22)}\n`);
    assert.equal(loadConfigFile(atCap, {}).scanIntervalMs, 30_000);
  });

  it('an alias bomb is one line naming the file, not a stack trace (web config too)', () => {
    const f = write('bomb.yml', `${BOMB}\n`);
    assert.match(refusal(() => loadConfigFile(f, {})), /bomb\.yml: invalid YAML: aliases expand past 100/);
    assert.match(refusal(() => loadWebConfig(f)), /bomb\.yml: invalid YAML: aliases expand past 100/);
    assert.match(refusal(() => loadConfigFile(write('unset.yml', 'paths: *nowhere\n'), {})), /unset\.yml: invalid YAML: Unresolved alias/);
  });

  it('bounds nesting before the parser recurses: a million [ and half a million - are refused at once', () => {
    // Before: 13 s to fail on the first; the second ran the process out of memory.
    for (const [text, re] of [
      ['['.repeat(MAX_YAML_BYTES), /line 1: invalid YAML: flow collections nested deeper than 64/],
      ['- '.repeat(MAX_YAML_BYTES / 2), /line 1: invalid YAML: indented or nested deeper than 256 columns/],
      ['&a '.repeat(MAX_YAML_BYTES / 3), /line 1: invalid YAML: more than 1000 anchors, aliases and tags/],
    ] as const) {
      const t0 = process.cpuUsage();
      assert.match(refusal(() => parseYaml(text, 'x.yml', { what: 'config file', quoteErrors: true })), re);
      const cpu = process.cpuUsage(t0);
      assert.ok(cpu.user + cpu.system < 5e6, 'refused within its budget');
    }
    // Brackets in quotes, comments and plain scalars do not count; real nesting within the bound parses.
    const ok = `databases: ['/data/[ab]*.db']\n# ${'['.repeat(100)}\nprocess_names: ["${'{'.repeat(100)}", '${'['.repeat(100)}']\ncritical_files:\n  - /etc/py[thon\n`;
    assert.deepEqual(parseYaml(ok, 'ok.yml', { what: 'config file', quoteErrors: true }), {
      databases: ['/data/[ab]*.db'],
      process_names: ['{'.repeat(100), '['.repeat(100)],
      critical_files: ['/etc/py[thon'],
    });
  });

  it('duplicate keys: the position of the second, in one pass', () => {
    assert.match(refusal(() => loadConfigFile(write('dup.yml', 'scan_interval: 1m\npaths: []\nscan_interval: 2m\n'), {})), /dup\.yml: line 3 column 1: invalid YAML: Map keys must be unique/);
    const many = Array.from({ length: 20_000 }, (_, i) => `k${i}: ${i}`).join('\n');
    const t0 = process.cpuUsage();
    assert.equal(Object.keys(parseYaml(many, 'many.yml', { what: 'config file', quoteErrors: true }) as object).length, 20_000);
    const cpu = process.cpuUsage(t0);
    assert.ok(cpu.user + cpu.system < 5e6, '20,000 keys within the budget (yaml alone compared every pair)');
  });

  it('text that is not UTF-8 is one line, and a syntax error names line and column', () => {
    assert.match(refusal(() => loadConfigFile(write('latin1.yml', Buffer.from('process_names: [caf\xe9]\n', 'latin1')), {})), /latin1\.yml: invalid YAML: not UTF-8 text/);
    assert.match(refusal(() => loadConfigFile(write('syntax.yml', 'paths:\n  - name: [\n'), {})), /syntax\.yml: line \d+ column \d+: invalid YAML: /);
  });
});

describe('config values that only failed at run time', () => {
  it('a duration a timer cannot hold is refused; 2^31-1 ms is kept; a modified_within window may be longer', () => {
    // Before: 25d was accepted, and setTimeout turned it into 1 ms (the paths re-walked continuously).
    for (const key of ['scan_interval', 'collector_timeout']) {
      assert.match(refusal(() => loadConfigFile(write('long.yml', `${key}: 25d\n`), {})), new RegExp(`long\\.yml: ${key}: must be at most 3w3d20h31m23s647ms`));
    }
    assert.match(refusal(() => loadConfigFile(write('long.yml', 'supervisor:\n  timeout: 1y\n'), {})), /supervisor\.timeout: must be at most/);
    assert.match(refusal(() => loadConfigFile(write('long.yml', 'probes:\n  - name: web\n    url: http://127.0.0.1:3000/\n    timeout: 4w\n'), {})), /probes\[0\]\.timeout: must be at most/);
    assert.equal(loadConfigFile(write('max.yml', 'scan_interval: 3w3d20h31m23s647ms\n'), {}).scanIntervalMs, MAX_TIMER_MS);
    const cfg = loadConfigFile(write('window.yml', `paths:\n  - name: logs\n    path: ${dir}\n    modified_within: [1y]\n`), {});
    assert.equal(cfg.paths[0]?.modifiedWithin[0]?.ms, 365 * 24 * 3600 * 1000);
  });

  it('an invalid glob is refused at load, naming the key and the segment', () => {
    assert.match(refusal(() => loadConfigFile(write('glob.yml', 'databases:\n  - /data/ok/*.db\n  - /data/[z-a]/*.db\n'), {})), /glob\.yml: databases\[1\]: is not a valid glob: "\[z-a\]" \(Range out of order in character class\)$/);
    assert.deepEqual(loadConfigFile(write('glob-ok.yml', 'databases: [/data/**/*.db, "/data/[!.]x?.db", "/data/[.db"]\n'), {}).databases, ['/data/**/*.db', '/data/[!.]x?.db', '/data/[.db']);
  });

  it('a supervisor URL that cannot be connected to is refused at load', () => {
    for (const [url, re] of [
      ['http://[::1/RPC2', /supervisor\.url: must be unix:\/\/\/path\/to\/socket or http/],
      ['http://127.0.0.1:99999/RPC2', /supervisor\.url: must be unix/],
      [`unix:///${'s'.repeat(120)}.sock`, /supervisor\.url: socket path is longer than 107 bytes/],
      ['unix://relative.sock', /supervisor\.url: must be unix:\/\/\/path\/to\/socket/],
    ] as const) {
      assert.match(refusal(() => loadConfigFile(write('url.yml', `supervisor:\n  url: '${url}'\n`), {})), re, url);
    }
    assert.deepEqual(loadConfigFile(write('url-ok.yml', 'supervisor:\n  url: http://[::1]:9001/RPC2\n'), {}).supervisor.urls, ['http://[::1]:9001/RPC2']);
  });
});

describe('the supervisor password file', () => {
  it('a FIFO as password_file is refused at load, not waited on at every call', () => {
    const fifo = path.join(dir, 'pass.fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    assert.match(refusal(() => loadConfigFile(write('pw.yml', `supervisor:\n  username: a\n  password_file: ${fifo}\n`), {})), /pw\.yml: supervisor\.password_file: cannot read .*pass\.fifo: a FIFO, not a regular file/);
  });
});
