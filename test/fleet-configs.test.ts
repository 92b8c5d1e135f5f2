// The fleet's static files (fleet/, docs/fleet.md): the agent and central Prometheus
// configs checked by promtool, the rules files by vmalert's own parser, both compose files
// against the Compose specification's schema, the Alertmanager inhibitions a fleet needs, and
// the fleet dashboard reading only recorded (cheap) series. test/e2e-fleet.test.ts runs them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { AGENT_JOB, FLEET_OVERVIEW_UID } from '../src/monitoring/dashboards/fleet-overview.js';
import { HOST_AUDIT_UID } from '../src/monitoring/dashboards/host-audit.js';
import { RECORDING_RULES } from '../src/monitoring/recording-rules.js';
import { ROOT } from './helpers/exporter.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

const require = createRequire(import.meta.url);
const read = (rel: string): string => readFileSync(path.join(ROOT, rel), 'utf8');
const yaml = <T>(rel: string): T => parse(read(rel)) as T;

function run(cmd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

interface ScrapeConfig {
  job_name: string;
  static_configs: Array<{ targets: string[] }>;
  relabel_configs?: Array<{ target_label?: string; replacement?: string; action?: string }>;
}

describe('fleet/agent/prometheus.yml', () => {
  const FILE = 'fleet/agent/prometheus.yml';
  const c = yaml<{
    scrape_configs: ScrapeConfig[];
    rule_files?: unknown;
    alerting?: unknown;
    remote_write: Array<{ url: string; queue_config: Record<string, number | string> }>;
  }>(FILE);

  it('passes promtool check config', () => {
    const r = run('promtool', ['check', 'config', FILE]);
    assert.equal(r.status, 0, r.out);
  });

  it('is an agent config: no rules, no alerting (agent mode refuses both)', () => {
    assert.equal(c.rule_files, undefined);
    assert.equal(c.alerting, undefined);
  });

  it('scrapes the local exporter as job hostaudit and itself, both with instance set to one host name', () => {
    const job = c.scrape_configs.find((s) => s.job_name === 'hostaudit');
    assert.deepEqual(job?.static_configs[0]?.targets, ['127.0.0.1:9863']);
    assert.ok(c.scrape_configs.some((s) => s.job_name === AGENT_JOB), `the fleet dashboard reads job ${AGENT_JOB}`);
    const names = c.scrape_configs.map((s) => {
      const r = (s.relabel_configs ?? []).filter((x) => x.target_label === 'instance');
      assert.equal(r.length, 1, `${s.job_name}: one instance relabelling`);
      return r[0]?.replacement;
    });
    assert.equal(new Set(names).size, 1, 'every job of the host carries the same instance');
    assert.match(names[0] ?? '', /^[a-z0-9][a-z0-9.-]*$/);
  });

  it('remote-writes with a sized queue', () => {
    const rw = c.remote_write[0];
    assert.match(rw?.url ?? '', /\/api\/v1\/write$/);
    assert.match(new URL(rw?.url ?? '').hostname, /\.example\.invalid$/, 'a placeholder that never resolves');
    const q = rw?.queue_config ?? {};
    assert.ok(Number(q.capacity) >= 2 * Number(q.max_samples_per_send), 'capacity holds at least two sends');
    // The scaled host (bench/fleet.bench.ts): 770 samples/s at 15 s; one shard's send of
    // max_samples_per_send every batch_send_deadline at worst must keep up with it.
    assert.ok(Number(q.max_samples_per_send) / Number.parseFloat(String(q.batch_send_deadline)) >= 770 / Number(q.max_shards));
  });
});

describe('fleet/central/prometheus.yml', () => {
  it('passes promtool check config with the alert and the recording rules', () => {
    const r = run('promtool', ['check', 'config', 'fleet/central/prometheus.yml']);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /SUCCESS: 2 rule files found/);
    assert.match(r.out, new RegExp(`SUCCESS: ${RECORDING_RULES.length} rules found`));
  });

  it('vmalert parses the same rules files (MetricsQL and templates validated) and rejects a broken one', () => {
    const rules = yaml<{ rule_files: string[] }>('fleet/central/prometheus.yml').rule_files.map((f) =>
      path.resolve(ROOT, 'fleet', 'central', f),
    );
    const ok = run('vmalert', ['-dryRun', ...rules.map((r) => `-rule=${r}`)]);
    assert.equal(ok.status, 0, ok.out);
    const tmp = makeTmpDir('hostaudit-vmalert-');
    try {
      const bad = path.join(tmp, 'bad.yml');
      writeFileSync(bad, readFileSync(rules[0] as string, 'utf8').replace('sum by (instance) (', 'sum by (instance ('));
      assert.notEqual(run('vmalert', ['-dryRun', `-rule=${bad}`]).status, 0);
    } finally {
      removeTmpDir(tmp);
    }
  });
});

describe('fleet compose files', () => {
  interface Service {
    profiles?: string[];
    command?: string[];
    volumes?: string[];
    network_mode?: string;
  }
  type Compose = { services: Record<string, Service> };

  function validator(): Ajv.ValidateFunction {
    // The Compose specification's published schema, kept in the repo (as test/monitoring-stack.test.ts reads it).
    const schema = JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'schemas', 'compose-spec.json'), 'utf8')) as object;
    const ajv = new Ajv.default({ allErrors: true, strict: false });
    const draft7 = require('ajv/dist/refs/json-schema-draft-07.json') as Record<string, unknown>;
    ajv.addMetaSchema({ ...draft7, $id: 'https://json-schema.org/draft-07/schema' });
    return ajv.compile(schema);
  }

  for (const file of ['fleet/agent.compose.yml', 'fleet/central.compose.yml']) {
    it(`${file} is valid against the Compose specification schema; a broken copy is not`, () => {
      const validate = validator();
      const doc = yaml<Compose>(file);
      assert.ok(validate(doc), JSON.stringify(validate.errors, null, 2));
      const bad = structuredClone(doc) as unknown as { services: Record<string, Record<string, unknown>> };
      (Object.values(bad.services)[0] as Record<string, unknown>).pid_namespace = 'host';
      assert.equal(validate(bad), false);
    });
  }

  it('the agent runs Prometheus in agent mode with fleet/agent/prometheus.yml, beside the exporter', () => {
    const c = yaml<Compose>('fleet/agent.compose.yml');
    const agent = c.services.agent;
    assert.ok(agent?.command?.includes('--enable-feature=agent'));
    const mount = agent?.volumes?.find((v) => v.startsWith('./agent/prometheus.yml:'));
    assert.ok(mount);
    assert.ok(agent?.command?.includes(`--config.file=${mount.split(':')[1]}`));
    assert.equal(agent?.network_mode, 'host', 'it scrapes 127.0.0.1:9863');
    assert.ok(c.services.exporter);
  });

  it('the central Prometheus receives remote writes and vmalert evaluates the same rules files', () => {
    const c = yaml<Compose>('fleet/central.compose.yml');
    const prom = c.services.prometheus;
    assert.deepEqual(prom?.profiles, ['prometheus']);
    assert.ok(prom?.command?.includes('--web.enable-remote-write-receiver'));
    const configMount = prom?.volumes?.find((v) => v.startsWith('./central/prometheus.yml:'));
    const alertsMount = prom?.volumes?.find((v) => v.startsWith('../alerts:'));
    assert.ok(configMount && alertsMount);
    const configTarget = configMount.split(':')[1] as string;
    const alertsTarget = alertsMount.split(':')[1] as string;
    assert.ok(prom?.command?.includes(`--config.file=${configTarget}`));
    const inProm = yaml<{ rule_files: string[] }>('fleet/central/prometheus.yml').rule_files.map((f) =>
      path.posix.resolve(path.posix.dirname(configTarget), f),
    );
    for (const f of inProm) assert.ok(f.startsWith(`${alertsTarget}/`), f);
    const vmalert = c.services.vmalert;
    assert.deepEqual(vmalert?.profiles, ['victoriametrics']);
    assert.ok(vmalert?.volumes?.includes(`../alerts:${alertsTarget}:ro`));
    const inVmalert = (vmalert?.command ?? []).filter((a) => a.startsWith('-rule=')).map((a) => a.slice('-rule='.length));
    assert.deepEqual(inVmalert.sort(), inProm.sort());
    assert.ok(vmalert?.command?.includes('-disableAlertgroupLabel'), 'alerts carry exactly the rules\' labels');
    assert.deepEqual(c.services.victoriametrics?.profiles, ['victoriametrics']);
  });
});

describe('Alertmanager in a fleet', () => {
  const c = yaml<{
    route: { group_by: string[] };
    inhibit_rules: Array<{ source_matchers: string[]; target_matchers: string[]; equal: string[] }>;
  }>('alertmanager/alertmanager.yml');

  it('groups by alert and instance (the host)', () => {
    for (const l of ['alertname', 'instance']) assert.ok(c.route.group_by.includes(l), l);
  });

  for (const [source, equal] of [
    ['HostAuditHostSilent', ['instance']],
    ['HostAuditSupervisorDown', ['job', 'instance']],
  ] as const) {
    it(`inhibits the host's per-service alerts while ${source} fires`, () => {
      const rule = c.inhibit_rules.find((i) => i.source_matchers.includes(`alertname="${source}"`) && i.target_matchers.includes('group=~".+"'));
      assert.ok(rule, source);
      assert.deepEqual(rule.equal, [...equal]);
    });
  }

  it('pages HostAuditHostSilent (amtool config routes test)', () => {
    const r = run('amtool', ['config', 'routes', 'test', '--config.file=alertmanager/alertmanager.yml', '--verify.receivers=pager', 'alertname=HostAuditHostSilent', 'severity=critical', 'instance=trading-host-3']);
    assert.equal(r.status, 0, r.out);
  });
});

describe('dashboards/fleet-overview.json', () => {
  interface Panel {
    type: string;
    title: string;
    datasource?: { uid?: string };
    targets?: Array<{ expr?: string; refId?: string }>;
    fieldConfig?: { overrides?: Array<{ matcher: { options: string }; properties: Array<{ id: string; value: unknown }> }> };
  }
  const d = JSON.parse(read('dashboards/fleet-overview.json')) as { uid: string; panels: Panel[]; templating: { list: Array<{ name: string }> } };

  it('has its uid, a datasource variable, and every panel on ${datasource}', () => {
    assert.equal(d.uid, FLEET_OVERVIEW_UID);
    assert.deepEqual(d.templating.list.map((v) => v.name), ['datasource', 'job']);
    for (const p of d.panels) assert.equal(p.datasource?.uid, '${datasource}', p.title);
  });

  it('reads recorded series, ALERTS and the agents\' own metrics only: no raw hostaudit_* series', () => {
    const exprs = d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));
    assert.ok(exprs.length >= 10);
    for (const e of exprs) assert.doesNotMatch(e, /\bhostaudit_[a-z]/, e);
    const recorded = new Set(RECORDING_RULES.map((r) => r.record));
    for (const e of exprs) for (const m of e.matchAll(/\bhostaudit:\w+:\w+/g)) assert.ok(recorded.has(m[0]), `${m[0]} is recorded`);
  });

  it('has one table row per host whose name links to that host\'s Host audit dashboard', () => {
    const t = d.panels.find((p) => p.type === 'table' && p.title === 'Hosts');
    assert.ok(t);
    assert.ok((t.targets ?? []).length >= 10);
    const host = t.fieldConfig?.overrides?.find((o) => o.matcher.options === 'Host');
    const links = host?.properties.find((p) => p.id === 'links')?.value as Array<{ url: string }>;
    assert.match(links[0]?.url ?? '', new RegExp(`^/d/${HOST_AUDIT_UID}\\?var-job=\\$\\{job\\}&var-instance=\\$\\{__value\\.raw\\}`));
  });
});

describe('recording rules (alerts/hostaudit.recording.rules.yml)', () => {
  it('give per-host figures: busiest service, services running of all, exporter up, firing alerts (promtool test rules)', () => {
    const s = (metric: string, labels: Record<string, string>, values: string): { series: string; values: string } => ({
      series: `${metric}{${Object.entries(labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(', ')}}`,
      values,
    });
    const a = { job: 'hostaudit', instance: 'trading-host-1' };
    const b = { job: 'hostaudit', instance: 'trading-host-2' };
    const x = { ...a, group: 'kalshi', name: 'kalshi_account_sync' };
    const y = { ...a, group: 'kalshi', name: 'kalshi_api_watchdog' };
    const z = { ...b, group: 'trading', name: 'unified_production_coordinator' };
    const sample = (labels: Record<string, string>, value: number): { labels: string; value: number } => ({
      labels: s(labels.__name__ ?? '', Object.fromEntries(Object.entries(labels).filter(([k]) => k !== '__name__')), '').series,
      value,
    });
    const test = {
      rule_files: [path.join(ROOT, 'alerts', 'hostaudit.recording.rules.yml')],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            // 0.5, 0.1 and 0.2 of a core (user+system summed for x).
            s('hostaudit_service_cpu_seconds_total', { ...x, mode: 'user' }, '0+24x10'),
            s('hostaudit_service_cpu_seconds_total', { ...x, mode: 'system' }, '0+6x10'),
            s('hostaudit_service_cpu_seconds_total', { ...y, mode: 'user' }, '0+6x10'),
            s('hostaudit_service_cpu_seconds_total', { ...z, mode: 'user' }, '0+12x10'),
            s('hostaudit_service_up', x, '1x10'),
            s('hostaudit_service_up', y, '0x10'),
            s('hostaudit_service_up', z, '1x10'),
            s('up', a, '1x10'),
            s('up', b, '0x10'),
            s('up', { job: 'node', instance: 'trading-host-2' }, '1x10'),
            s('ALERTS', { alertname: 'HostAuditServiceDown', alertstate: 'firing', severity: 'critical', ...y, state: 'EXITED' }, '1x10'),
            s('ALERTS', { alertname: 'HostAuditHostSilent', alertstate: 'firing', severity: 'critical', instance: 'trading-host-3' }, '1x10'),
            s('ALERTS', { alertname: 'HostAuditLogsLarge', alertstate: 'pending', severity: 'warning', ...b }, '1x10'),
          ],
          promql_expr_test: [
            {
              expr: 'hostaudit:busiest_service_cpu_cores:rate5m',
              eval_time: '10m',
              exp_samples: [
                sample({ __name__: 'hostaudit:busiest_service_cpu_cores:rate5m', ...x }, 0.5),
                sample({ __name__: 'hostaudit:busiest_service_cpu_cores:rate5m', ...z }, 0.2),
              ],
            },
            {
              expr: 'hostaudit:services_running:sum',
              eval_time: '10m',
              exp_samples: [sample({ __name__: 'hostaudit:services_running:sum', ...a }, 1), sample({ __name__: 'hostaudit:services_running:sum', ...b }, 1)],
            },
            {
              expr: 'hostaudit:services:count',
              eval_time: '10m',
              exp_samples: [sample({ __name__: 'hostaudit:services:count', ...a }, 2), sample({ __name__: 'hostaudit:services:count', ...b }, 1)],
            },
            {
              expr: 'hostaudit:exporter_up:min',
              eval_time: '10m',
              exp_samples: [sample({ __name__: 'hostaudit:exporter_up:min', ...a }, 1), sample({ __name__: 'hostaudit:exporter_up:min', ...b }, 0)],
            },
            {
              // Firing only (not pending), by instance and severity; the silent host included.
              expr: 'hostaudit:alerts_firing:count',
              eval_time: '10m',
              exp_samples: [
                sample({ __name__: 'hostaudit:alerts_firing:count', instance: 'trading-host-1', severity: 'critical' }, 1),
                sample({ __name__: 'hostaudit:alerts_firing:count', instance: 'trading-host-3', severity: 'critical' }, 1),
              ],
            },
          ],
        },
      ],
    };
    const tmp = makeTmpDir('hostaudit-recording-');
    try {
      const file = path.join(tmp, 'recording.test.yml');
      writeFileSync(file, JSON.stringify(test));
      const r = run('promtool', ['test', 'rules', file]);
      assert.equal(r.status, 0, r.out);
      // The test can fail: the busiest service of host 1 is not 0.1 of a core.
      const wrong = structuredClone(test);
      (wrong.tests[0]?.promql_expr_test[0]?.exp_samples[0] as { value: number }).value = 0.1;
      writeFileSync(file, JSON.stringify(wrong));
      assert.notEqual(run('promtool', ['test', 'rules', file]).status, 0);
    } finally {
      removeTmpDir(tmp);
    }
  });
});
