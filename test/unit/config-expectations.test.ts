// The freshness keys of the config: the object form of a databases entry, expect_body and
// tcp:// probes, thresholds.services.NAME.expect_log_write_within; each bad value one ConfigError.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config.js';
import { expectationFor } from '../../src/config-expectations.js';
import { ConfigError } from '../../src/errors.js';

const parse = (doc: unknown) => parseConfig(doc, '/etc/h.yml', '/srv');

describe('config: freshness expectations', () => {
  it('takes a plain glob and the object form of a databases entry', () => {
    const c = parse({ databases: ['data/*.db', { glob: '/srv/data/btc.db', expect_write_within: '5m' }, { glob: 'x.db' }] });
    assert.deepEqual(c.databases, ['/srv/data/*.db', '/srv/data/btc.db', '/srv/x.db']);
    assert.deepEqual(c.databaseEntries, [
      { glob: '/srv/data/*.db' },
      { glob: '/srv/data/btc.db', expectWriteWithinMs: 300_000 },
      { glob: '/srv/x.db' },
    ]);
  });

  it('reads expect_log_write_within by name or group:name, leaving the other thresholds keys alone', () => {
    const c = parse({
      thresholds: { service_high_cpu: { value: 0.5 }, services: { sync: { expect_log_write_within: '10m', service_high_cpu: { value: 0.7 } }, 'kalshi:w': { expect_log_write_within: '1h' } } },
    });
    assert.equal(expectationFor(c.logWriteWithin, 'sync', 'sync'), 600_000);
    assert.equal(expectationFor(c.logWriteWithin, 'kalshi', 'w'), 3_600_000);
    assert.equal(expectationFor(c.logWriteWithin, 'other', 'w'), undefined);
  });

  it('takes expect_body and tcp:// probes', () => {
    const c = parse({ probes: [{ name: 'web', url: 'https://127.0.0.1:3000/health', expect_body: '"status":\\s*"ok"' }, { name: 'c', url: 'tcp://127.0.0.1:7000' }] });
    assert.ok(c.probes[0]?.expectBody?.test('{"status": "ok"}'));
    assert.equal(c.probes[1]?.url, 'tcp://127.0.0.1:7000');
  });

  it('rejects bad values with the key named', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ databases: [{ glob: 'a.db', expect_write_within: 'soon' }] }, /databases\[0\]\.expect_write_within: must be a duration/],
      [{ databases: [{ glob: 'a.db', within: '5m' }] }, /databases\[0\]\.within: unknown key/],
      [{ databases: [{ expect_write_within: '5m' }] }, /databases\[0\]\.glob: must be a non-empty string/],
      [{ databases: [3] }, /databases\[0\]: must be a glob or a mapping/],
      [{ thresholds: { services: { a: { expect_log_write_within: '0s' } } } }, /thresholds\.services\.a\.expect_log_write_within/],
      [{ thresholds: { services: ['a'] } }, /thresholds\.services: must be a mapping/],
      [{ probes: [{ name: 'p', url: 'http://x/', expect_body: '(' }] }, /probes\[0\]\.expect_body: is not a valid regular expression/],
      [{ probes: [{ name: 'p', url: 'tcp://x:1', expect_body: 'ok' }] }, /probes\[0\]\.expect_body: applies to http/],
      [{ probes: [{ name: 'p', url: 'tcp://x' }] }, /probes\[0\]\.url: a tcp:\/\/ probe needs a host and a port/],
      [{ probes: [{ name: 'p', url: 'ftp://x/' }] }, /probes\[0\]\.url: must be http:\/\/, https:\/\/ or tcp:\/\//],
    ];
    for (const [doc, re] of bad) {
      assert.throws(() => parse(doc), (err: unknown) => err instanceof ConfigError && re.test(err.message), JSON.stringify(doc));
    }
  });
});
