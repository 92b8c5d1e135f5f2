// Fuzz target: the config file through the YAML reader and the validator (src/yaml-file.ts,
// src/config.ts). Random text, random structures written as YAML, and mutations of the real
// configs (the example config, the SPEC's, the 0.2 additions): only a ConfigError may escape,
// each input within its CPU budget, and whatever is accepted holds values the exporter can use.
// corpus/config/ holds the inputs that once failed (a stack trace, a hang, a 1 ms timer).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { loadConfigFile, MAX_TIMER_MS, parseConfig, type Config } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { MAX_YAML_BYTES, parseYaml } from '../../src/yaml-file.js';
import { ROOT } from '../helpers/exporter.js';
import { fuzzParams, fuzzRuns } from '../helpers/fuzz.js';
import { makeTmpDir, removeTmpDir } from '../helpers/tmp.js';

/** CPU one input may take (user + system): a bound on a loaded machine, not a timing figure. */
const BUDGET_US = 3_000_000;
const CORPUS = path.join(ROOT, 'test', 'fuzz', 'corpus', 'config');
const dir = makeTmpDir('hostaudit-fuzzcfg-');
after(() => removeTmpDir(dir));
// yaml reports some problems with process.emitWarning, a second line on stderr: none may happen.
const warnings: string[] = [];
process.on('warning', (w) => warnings.push(w.message));
afterEach(() => assert.deepEqual(warnings.splice(0), [], 'no process warnings'));

const SPEC_CONFIG = `supervisor:
  url: unix:///var/run/supervisor.sock   # or http://127.0.0.1:9001/RPC2
  username: auditor                      # optional
  timeout: 5s
paths:                                   # directories, measured like \`du -sb\`
  - name: logs
    path: /srv/trading/logs
    modified_within: [10m, 1h]
  - name: data
    path: /srv/trading/data
  - name: system
    path: /srv/trading
databases:                               # SQLite files, by glob (** allowed)
  - /srv/trading/data/**/*.db
probes:                                  # HTTP health checks
  - name: web
    url: http://127.0.0.1:3000/health
    timeout: 2s
critical_files:
  - /srv/trading/config/production.yaml
process_names: [python]                  # host-wide process counts by name
scan_interval: 60s                       # background refresh of paths and databases
`;
const ADDITIONS = `databases:
  - /srv/trading/data/**/*.db
  - glob: /srv/trading/data/btc_price_history.db
    expect_write_within: 5m
probes:
  - name: web
    url: https://127.0.0.1:3000/health
    expect_body: '"status":\\s*"ok"'
  - name: coordinator
    url: tcp://127.0.0.1:7000
thresholds:
  service_high_cpu: {value: 0.5, for: 20m}
  runbook_url: 'https://wiki.example.com/hostaudit#{alert}'
  services:
    kalshi_account_sync:
      service_high_cpu: {value: 0.7}
      expect_log_write_within: 10m
full_scan_interval: 1h
`;
const SEEDS = [readFileSync(path.join(ROOT, 'hostaudit.example.yml'), 'utf8'), SPEC_CONFIG, ADDITIONS];

/** Loads config text as loadConfigFile does, without the file. */
function load(text: string | Buffer): Config {
  return parseConfig(parseYaml(text, 'fuzz.yml', { what: 'config file', quoteErrors: true }), '/etc/hostaudit/fuzz.yml', '/etc/hostaudit', {});
}

/** The property: a Config the exporter can use, or a one-line ConfigError; within the budget. */
function check(text: string | Buffer, loader: () => Config = () => load(text)): void {
  const t0 = process.cpuUsage();
  try {
    const cfg = loader();
    for (const ms of [cfg.scanIntervalMs, cfg.collectorTimeoutMs, cfg.supervisor.timeoutMs, cfg.supervisor.pollIntervalMs, ...cfg.probes.map((p) => p.timeoutMs)]) {
      assert.ok(Number.isSafeInteger(ms) && ms > 0 && ms <= MAX_TIMER_MS, `a timer of ${ms} ms`);
    }
    for (const p of cfg.paths) assert.ok(path.isAbsolute(p.path) && p.modifiedWithin.every((w) => w.ms > 0));
    for (const g of cfg.databases) assert.ok(path.isAbsolute(g));
    assert.ok(cfg.supervisor.urls.length > 0);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    assert.ok(!err.message.includes('\n'), `one line: ${JSON.stringify(err.message.slice(0, 200))}`);
  }
  const used = process.cpuUsage(t0);
  assert.ok(used.user + used.system < BUDGET_US, `${used.user + used.system} µs of CPU for ${text.length} bytes`);
  if (used.user + used.system > worst.us) Object.assign(worst, { us: used.user + used.system, bytes: text.length });
}

/** The costliest input so far, reported at the end (docs/reliability.md quotes it). */
const worst = { us: 0, bytes: 0 };

/** Text YAML cares about, to mutate with. */
const YAML_CHARS = fc.constantFrom(...'[]{}:-?&*!|>\'"#%@`,\n \t\\0123456789', '<<', '&a ', '*a', '!!str ', '---\n', '...\n', '\ufeff', '\u0000');
const edit = fc.oneof(
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(YAML_CHARS, fc.string({ maxLength: 8 })) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 200 }) }),
  fc.record({ op: fc.constant('indent' as const), at: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
);
type Edit = typeof edit extends fc.Arbitrary<infer T> ? T : never;

function mutate(seed: string, edits: Edit[]): string {
  let s = seed;
  for (const e of edits) {
    const at = s.length === 0 ? 0 : e.at % (s.length + 1);
    if (e.op === 'insert') s = s.slice(0, at) + e.text + s.slice(at);
    else if (e.op === 'delete') s = s.slice(0, at) + s.slice(at + e.len);
    else if (e.op === 'duplicate') s = s.slice(0, at + e.len) + s.slice(at, at + e.len) + s.slice(at + e.len);
    else {
      const lines = s.split('\n');
      const i = at % lines.length;
      const l = lines[i] as string;
      lines[i] = e.by >= 0 ? ' '.repeat(e.by) + l : l.slice(Math.min(-e.by, l.length - l.trimStart().length));
      s = lines.join('\n');
    }
  }
  return s;
}

/** Config-shaped values: the real keys with values of every kind, some right, most wrong. */
const value: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('5s', '10m', '1h', '25d', '0', '500ms', '1h30m', '2147483647ms', '2147483648ms', '1y', '', '-1s', '10 minutes'),
  fc.constantFrom('/srv/trading/logs', 'relative/dir', '/data/**/*.db', '/data/[z-a].db', '/data/[.db', 'unix:///tmp/s.sock', 'http://[::1/RPC2', 'http://127.0.0.1:99999/', 'https://host/health', 'tcp://h:1'),
  fc.string({ maxLength: 30 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const pathEntry = fc.record({ name: fc.oneof(fc.constantFrom('logs', 'data', 'bad name'), fc.string({ maxLength: 10 })), path: value, modified_within: fc.oneof(fc.array(value, { maxLength: 3 }), value) }, { requiredKeys: [] });
const configShape = fc.record(
  {
    supervisor: fc.oneof(fc.record({ url: value, username: value, timeout: value, poll_interval: value }, { requiredKeys: [] }), value),
    paths: fc.oneof(fc.array(pathEntry, { maxLength: 4 }), value),
    databases: fc.oneof(fc.array(value, { maxLength: 4 }), value),
    probes: fc.oneof(fc.array(fc.record({ name: value, url: value, timeout: value, insecure_skip_verify: value }, { requiredKeys: [] }), { maxLength: 3 }), value),
    critical_files: fc.oneof(fc.array(value, { maxLength: 3 }), value),
    process_names: fc.oneof(fc.array(value, { maxLength: 3 }), value),
    scan_interval: value,
    collector_timeout: value,
    unknown_key: value,
  },
  { requiredKeys: [] },
);

describe('fuzz: config file', () => {
  it('corpus: every input that once failed is one ConfigError line now', () => {
    const files = readdirSync(CORPUS);
    assert.ok(files.length >= 10);
    for (const f of files) {
      assert.throws(() => loadConfigFile(path.join(CORPUS, f), {}), (err: unknown) => err instanceof ConfigError && !err.message.includes('\n'), f);
      check(readFileSync(path.join(CORPUS, f)));
    }
  });

  it('the real configs load as they are', () => {
    check(SEEDS[0] as string);
    assert.equal(load(SEEDS[0] as string).paths.length, 2);
    assert.equal(load(SPEC_CONFIG).paths.length, 3);
  });

  it('mutations of the real configs', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SEEDS), fc.array(edit, { minLength: 1, maxLength: 8 }), (seed, edits) => check(mutate(seed, edits))),
      fuzzParams(1200),
    );
  });

  it('random config-shaped documents written as YAML', () => {
    fc.assert(
      fc.property(configShape, (doc) => check(stringify(doc))),
      fuzzParams(1000),
    );
  });

  it('random text and random bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 400 }), fc.array(YAML_CHARS, { maxLength: 300 }).map((a) => a.join(''))), (text) => check(text)),
      fuzzParams(1500),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => check(Buffer.from(bytes))),
      fuzzParams(500),
    );
  });

  it('large inputs: repeated YAML up to the size cap, within the budget', () => {
    fc.assert(
      fc.property(fc.array(YAML_CHARS, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1000, max: MAX_YAML_BYTES / 8 }), (unit, n) => {
        check(unit.join('').repeat(n).slice(0, MAX_YAML_BYTES));
      }),
      // Each costs up to a few hundred ms of CPU: a long run (FUZZ_RUNS) takes at most 200.
      { ...fuzzParams(30), numRuns: Math.min(fuzzRuns(30), 200) },
    );
  });

  after(() => {
    console.log(`config fuzz: costliest input ${(worst.us / 1000).toFixed(0)} ms of CPU (${worst.bytes} bytes), budget ${BUDGET_US / 1000} ms`);
  });

  it('through the file: a few hundred mutated configs read from disk', () => {
    const file = path.join(dir, 'config.yml');
    fc.assert(
      fc.property(fc.constantFrom(...SEEDS), fc.array(edit, { minLength: 1, maxLength: 4 }), (seed, edits) => {
        const text = mutate(seed, edits);
        writeFileSync(file, text);
        check(text, () => loadConfigFile(file, {}));
      }),
      fuzzParams(300),
    );
  });
});
