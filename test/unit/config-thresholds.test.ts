// The `thresholds:` config section: every override lands where the rules, dashboards and audit
// read it, and every mistake is one ConfigError naming the file and the key.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { THRESHOLDS, type ThresholdKey } from '../../src/monitoring/thresholds.js';
import { hostThresholds, runbookLink, serviceThresholds, thresholdConfigKey } from '../../src/monitoring/tuning.js';
import { judge } from '../../src/report/anomalies.js';
import type { AuditReport } from '../../src/report/model.js';

const FILE = '/etc/hostaudit/hostaudit.yml';
const parse = (thresholds: unknown) => parseConfig({ thresholds }, FILE, '/etc/hostaudit', {}).thresholds;

function refused(thresholds: unknown, key: string, problem: RegExp): void {
  assert.throws(
    () => parse(thresholds),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.file, FILE);
      assert.equal(err.key, key);
      assert.match(err.problem, problem);
      return true;
    },
  );
}

describe('thresholds config', () => {
  it('names every built-in threshold by its snake_case key (SPEC: the alert name without HostAudit)', () => {
    assert.equal(thresholdConfigKey('serviceHighCpu'), 'service_high_cpu');
    assert.equal(thresholdConfigKey('sqliteWalLarge'), 'sqlite_wal_large');
    for (const k of Object.keys(THRESHOLDS) as ThresholdKey[]) assert.match(thresholdConfigKey(k), /^[a-z0-9]+(_[a-z0-9]+)*$/);
  });

  it('is all defaults when absent', () => {
    assert.deepEqual(hostThresholds(parse(undefined)), THRESHOLDS);
  });

  it('overrides value and for; per service by name or group:name, group:name first', () => {
    const t = parse({
      service_high_cpu: { value: 0.5, for: '20m' },
      logs_large: { value: 2 * 2 ** 30 },
      runbook_url: 'https://wiki.example.com/hostaudit#{alert}',
      services: {
        kalshi_account_sync: { service_high_cpu: { value: 0.7 }, expect_log_write_within: '10m' },
        'kalshi:kalshi_account_sync': { service_high_cpu: { value: 0.9 } },
      },
    });
    const host = hostThresholds(t);
    assert.equal(host.serviceHighCpu.value, 0.5);
    assert.equal(host.serviceHighCpu.for, '20m');
    assert.equal(host.logsLarge.value, 2 * 2 ** 30);
    assert.equal(host.logsLarge.for, THRESHOLDS.logsLarge.for);
    assert.equal(serviceThresholds(t, 'other', 'kalshi_account_sync').serviceHighCpu.value, 0.7);
    assert.equal(serviceThresholds(t, 'kalshi', 'kalshi_account_sync').serviceHighCpu.value, 0.9);
    assert.equal(serviceThresholds(t, 'kalshi', 'kalshi_account_sync').serviceHighCpu.for, '20m', 'the host override under it');
    assert.equal(serviceThresholds(t, 'web', 'main_app').serviceHighCpu.value, 0.5);
    assert.equal(t.services[0]?.expectLogWriteWithinMs, 600_000);
    assert.equal(runbookLink(t, 'HostAuditLogsLarge'), 'https://wiki.example.com/hostaudit#HostAuditLogsLarge');
  });

  it('links runbooks to the exporter\'s own /runbooks page (docs/runbooks.md) by default', () => {
    assert.equal(runbookLink(parse(undefined), 'HostAuditLogsLarge'), 'http://{{ $labels.instance }}/runbooks#hostauditlogslarge');
  });

  it('refuses unknown keys and bad values, naming the file and the key', () => {
    refused({ service_hi_cpu: { value: 1 } }, 'thresholds.service_hi_cpu', /unknown key \(allowed: service_high_cpu, /);
    refused({ service_high_cpu: { value: 1, fore: '5m' } }, 'thresholds.service_high_cpu.fore', /unknown key/);
    refused({ service_high_cpu: { value: -1 } }, 'thresholds.service_high_cpu.value', /number >= 0 \(in cores\)/);
    refused({ service_high_cpu: { value: '40%' } }, 'thresholds.service_high_cpu.value', /number >= 0/);
    refused({ service_high_cpu: { for: 'soon' } }, 'thresholds.service_high_cpu.for', /duration/);
    refused({ service_high_cpu: {} }, 'thresholds.service_high_cpu', /must set value, for or both/);
    refused({ service_down: { value: 2 } }, 'thresholds.service_down.value', /yes\/no condition/);
    refused({ runbook_url: 'wiki/{alert}' }, 'thresholds.runbook_url', /http/);
    refused({ services: ['a'] }, 'thresholds.services', /mapping/);
    refused({ services: { 'a b': {} } }, 'thresholds.services.a b', /process name or group:name/);
    // Per service: only the alerts that range over services.
    refused({ services: { web: { logs_large: { value: 1 } } } }, 'thresholds.services.web.logs_large', /unknown key \(allowed: service_high_cpu, /);
    refused({ services: { web: { expect_log_write_within: 'often' } } }, 'thresholds.services.web.expect_log_write_within', /duration/);
  });

  it('is what the audit judges with, per service too', () => {
    const t = parse({ service_high_cpu: { value: 0.5 }, services: { busy: { service_high_cpu: { value: 0.9 } } } });
    const service = (name: string, cpu: number) => ({ group: name, name, state: 'RUNNING', cpu_percent: cpu });
    const report = {
      generated_at: new Date().toISOString(),
      supervisor: { up: true },
      services: [service('busy', 60), service('calm', 45), service('hot', 60)],
      processes: { services_memory_bytes: 0 },
      storage: { paths: [], databases: [] },
      health: { probes: [], critical_files: [] },
      collectors: [],
    } as unknown as AuditReport;
    const high = judge(report, undefined, t).filter((a) => a.alert === 'HostAuditServiceHighCPU').map((a) => [a.subject, a.limit]);
    assert.deepEqual(high, [['hot', 0.5]]);
    const builtin = judge(report).filter((a) => a.alert === 'HostAuditServiceHighCPU').map((a) => a.subject); // one name per service: group:name only when they differ
    assert.deepEqual(builtin, ['busy', 'calm', 'hot']);
  });
});
