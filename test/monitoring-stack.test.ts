// The monitoring stack's static files: Prometheus and Alertmanager configs checked by their own
// tools (promtool, amtool), routing tested with `amtool config routes test`, docker-compose.yml
// validated against the Compose specification's JSON schema, the Dockerfile's essentials, the
// Grafana provisioning and the dashboards' structure.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { loadConfigFile } from '../src/config.js';
import { THRESHOLDS } from '../src/monitoring/thresholds.js';
import { ROOT } from './helpers/exporter.js';

const require = createRequire(import.meta.url);

/**
 * SPEC.md's 15 alerts, the 8 of its 0.2 table a host's rules hold (HostAuditHostSilent is the
 * fleet's), plus the one documented beyond it (test/monitoring-rules.test.ts checks which).
 */
const BEYOND_SPEC = ['HostAuditExporterDown'] as const;
const RULE_COUNT = 15 + 8 + BEYOND_SPEC.length;

function run(cmd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const read = (rel: string): string => readFileSync(path.join(ROOT, rel), 'utf8');
const yaml = <T>(rel: string): T => parse(read(rel)) as T;

describe('prometheus/prometheus.yml', () => {
  it('passes promtool check config (which also checks the rule files it names)', () => {
    const r = run('promtool', ['check', 'config', 'prometheus/prometheus.yml']);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /SUCCESS: 1 rule files found/);
    assert.match(r.out, new RegExp(`SUCCESS: ${RULE_COUNT} rules found`));
  });

  it('scrapes the exporter on port 9863 and sends alerts to Alertmanager', () => {
    const c = yaml<{
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
      alerting: { alertmanagers: Array<{ static_configs: Array<{ targets: string[] }> }> };
    }>('prometheus/prometheus.yml');
    const job = c.scrape_configs.find((s) => s.job_name === 'hostaudit');
    assert.ok(job);
    assert.match(job.static_configs[0]?.targets[0] ?? '', /:9863$/);
    assert.deepEqual(c.alerting.alertmanagers[0]?.static_configs[0]?.targets, ['alertmanager:9093']);
  });

  it('promtool check config fails on a broken config (the check is real)', () => {
    const r = spawnSync(
      'sh',
      [
        '-c',
        `t=$(mktemp -d); trap 'rm -rf "$t"' EXIT; mkdir "$t/prometheus" "$t/alerts";
         cp alerts/hostaudit.rules.yml "$t/alerts/";
         sed 's/scrape_interval: 15s/scrape_interval: fifteen/' prometheus/prometheus.yml > "$t/prometheus/prometheus.yml";
         promtool check config "$t/prometheus/prometheus.yml"`,
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    assert.notEqual(r.status, 0);
  });
});

describe('alertmanager/alertmanager.yml', () => {
  const FILE = 'alertmanager/alertmanager.yml';

  it('passes amtool check-config', () => {
    const r = run('amtool', ['check-config', FILE]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /SUCCESS/);
  });

  const routes: Array<[string, string[]]> = [
    ['pager', ['alertname=HostAuditServiceDown', 'severity=critical', 'instance=h:9863']],
    ['pager', ['alertname=HostAuditSupervisorDown', 'severity=critical']],
    ['pager', ['alertname=HostAuditServiceCPUSaturated', 'severity=critical']],
    ['pager', ['alertname=HostAuditExporterDown', 'severity=critical', 'job=hostaudit', 'instance=h:9863']],
    ['chat', ['alertname=HostAuditServiceHighCPU', 'severity=warning', 'name=kalshi_account_sync']],
    ['chat', ['alertname=HostAuditLogsLarge', 'severity=warning']],
    ['chat', ['alertname=HostAuditDatabaseGrowth', 'severity=info']],
  ];
  for (const [receiver, labels] of routes) {
    it(`routes ${labels.join(' ')} to ${receiver} (amtool config routes test)`, () => {
      const r = run('amtool', ['config', 'routes', 'test', `--config.file=${FILE}`, `--verify.receivers=${receiver}`, ...labels]);
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, new RegExp(`^${receiver}$`, 'm'));
    });
  }

  it('routes every alert of the rules file by its severity: critical pages, the others go to chat', () => {
    const doc = yaml<{ groups: Array<{ rules: Array<{ alert: string; labels: { severity: string } }> }> }>(
      'alerts/hostaudit.rules.yml',
    );
    const all = doc.groups.flatMap((g) => g.rules);
    assert.equal(all.length, RULE_COUNT);
    for (const name of BEYOND_SPEC) assert.ok(all.some((r) => r.alert === name), `${name} in the rules file`);
    assert.deepEqual(
      all.map((r) => r.alert).sort(),
      Object.values(THRESHOLDS)
        .map((t) => t.alert)
        .sort(),
    );
    for (const r of all) {
      const want = r.labels.severity === 'critical' ? 'pager' : 'chat';
      const out = run('amtool', [
        'config',
        'routes',
        'test',
        `--config.file=${FILE}`,
        `--verify.receivers=${want}`,
        `alertname=${r.alert}`,
        `severity=${r.labels.severity}`,
      ]);
      assert.equal(out.status, 0, `${r.alert}: ${out.out}`);
    }
  });

  it('routes HostAuditServiceHighCPU through its own route, one notification per service', () => {
    const r = run('amtool', ['config', 'routes', 'test', '--tree', `--config.file=${FILE}`, 'alertname=HostAuditServiceHighCPU', 'severity=warning']);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /\{alertname="HostAuditServiceHighCPU"\}\s+receiver: chat/);
    const c = yaml<{ route: { routes: Array<{ matchers: string[]; group_by?: string[] }> } }>(FILE);
    const route = c.route.routes.find((x) => x.matchers.includes('alertname="HostAuditServiceHighCPU"'));
    assert.ok(route?.group_by?.includes('name'));
  });

  it('amtool --verify.receivers fails on a wrong receiver (the routing test is real)', () => {
    const r = run('amtool', ['config', 'routes', 'test', `--config.file=${FILE}`, '--verify.receivers=chat', 'severity=critical']);
    assert.notEqual(r.status, 0, r.out);
  });

  it('inhibits HostAuditServiceDown while HostAuditSupervisorDown fires for the same instance', () => {
    const c = yaml<{ inhibit_rules: Array<{ source_matchers: string[]; target_matchers: string[]; equal: string[] }> }>(FILE);
    const rule = c.inhibit_rules.find(
      (i) =>
        i.source_matchers.includes('alertname="HostAuditSupervisorDown"') &&
        i.target_matchers.includes('alertname="HostAuditServiceDown"'),
    );
    assert.ok(rule);
    assert.ok(rule.equal.includes('instance'));
  });

  it('uses placeholder webhook URLs that can never be reached (.invalid)', () => {
    const c = yaml<{ receivers: Array<{ name: string; webhook_configs: Array<{ url: string }> }> }>(FILE);
    assert.deepEqual(c.receivers.map((r) => r.name).sort(), ['chat', 'pager']);
    for (const r of c.receivers) for (const w of r.webhook_configs) assert.match(new URL(w.url).hostname, /\.example\.invalid$/);
  });
});

describe('docker-compose.yml', () => {
  interface Service {
    build?: { context: string; dockerfile: string };
    image?: string;
    pid?: string;
    network_mode?: string;
    user?: string;
    volumes?: Array<string | { type: string; source: string; target: string; read_only?: boolean }>;
    healthcheck?: { test: string[] };
    command?: string[];
    ports?: string[];
  }
  const compose = (): { services: Record<string, Service> } => yaml('docker-compose.yml');

  function validator(): Ajv.ValidateFunction {
    // CI puts a copy of shared/ beside the clone: ../shared from the repository root.
    const schema = JSON.parse(readFileSync(path.join(ROOT, '..', 'shared', 'schemas', 'compose-spec.json'), 'utf8')) as object;
    const ajv = new Ajv.default({ allErrors: true, strict: false });
    // The schema names its draft-07 meta-schema by its https URL; ajv knows it by http.
    const draft7 = require('ajv/dist/refs/json-schema-draft-07.json') as Record<string, unknown>;
    ajv.addMetaSchema({ ...draft7, $id: 'https://json-schema.org/draft-07/schema' });
    return ajv.compile(schema);
  }

  it('is valid against the Compose specification schema (draft-07)', () => {
    const validate = validator();
    const ok = validate(compose());
    assert.ok(ok, JSON.stringify(validate.errors, null, 2));
  });

  it('the schema rejects a broken file (the validation is real)', () => {
    const validate = validator();
    const bad = compose() as unknown as { services: Record<string, Record<string, unknown>> };
    (bad.services.exporter as Record<string, unknown>).pid_namespace = 'host';
    assert.equal(validate(bad), false);
  });

  it('ships an example exporter config (hostaudit.example.yml) the exporter accepts', () => {
    const c = loadConfigFile(path.join(ROOT, 'hostaudit.example.yml'), {});
    assert.deepEqual(c.supervisor.urls, ['unix:///var/run/supervisor.sock']);
    assert.deepEqual(
      c.paths.map((p) => p.name),
      ['logs', 'data'],
    );
    assert.equal(c.probes[0]?.name, 'web');
  });

  it('runs the exporter from the Dockerfile with the host PID namespace, read-only mounts and a healthcheck', () => {
    const e = compose().services.exporter;
    assert.ok(e);
    assert.equal(e.build?.dockerfile, 'Dockerfile');
    assert.equal(e.pid, 'host');
    assert.ok(e.command?.some((c) => c.endsWith(':9863')));
    assert.ok(e.healthcheck?.test.join(' ').includes('/-/healthy'));
    const mounts = (e.volumes ?? []).filter((v): v is Exclude<typeof v, string> => typeof v !== 'string');
    assert.equal(mounts.length, (e.volumes ?? []).length, 'long-form mounts');
    for (const m of mounts) assert.equal(m.read_only, true, `${m.target} mounted read-only`);
    const targets = mounts.map((m) => `${m.source} -> ${m.target}`).join('\n');
    assert.match(targets, /supervisor\.sock\}? -> \/var\/run\/supervisor\.sock/);
    assert.match(targets, /logs/);
    assert.match(targets, /data/);
  });

  it('mounts the rules and scrape config into Prometheus where prometheus.yml looks for them', () => {
    const p = compose().services.prometheus;
    const vols = (p?.volumes ?? []) as string[];
    const configMount = vols.find((v) => v.startsWith('./prometheus/prometheus.yml:'));
    const alertsMount = vols.find((v) => v.startsWith('./alerts:'));
    assert.ok(configMount && alertsMount);
    const configTarget = configMount.split(':')[1] as string;
    const alertsTarget = alertsMount.split(':')[1] as string;
    assert.ok(p?.command?.includes(`--config.file=${configTarget}`));
    const rulesPath = yaml<{ rule_files: string[] }>('prometheus/prometheus.yml').rule_files[0] as string;
    const resolved = path.posix.resolve(path.posix.dirname(configTarget), rulesPath);
    assert.equal(resolved, path.posix.join(alertsTarget, 'hostaudit.rules.yml'));
  });

  it('provisions Grafana with the datasource and the dashboards directory the provider reads', () => {
    const g = compose().services.grafana;
    const vols = (g?.volumes ?? []) as string[];
    assert.ok(vols.includes('./grafana/provisioning:/etc/grafana/provisioning:ro'));
    const dash = vols.find((v) => v.startsWith('./dashboards:'));
    assert.ok(dash);
    const provider = yaml<{ providers: Array<{ type: string; options: { path: string } }> }>(
      'grafana/provisioning/dashboards/hostaudit.yml',
    ).providers[0];
    assert.equal(provider?.type, 'file');
    assert.equal(provider?.options.path, dash.split(':')[1]);
    const ds = yaml<{ datasources: Array<{ type: string; url: string }> }>('grafana/provisioning/datasources/prometheus.yml')
      .datasources[0];
    assert.equal(ds?.type, 'prometheus');
    assert.equal(ds?.url, 'http://prometheus:9090');
    assert.ok(compose().services.alertmanager?.volumes?.includes('./alertmanager/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro'));
  });
});

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  const stages = text.split(/^FROM /m).slice(1);

  it('is multi-stage on node:20 slim images', () => {
    assert.ok(stages.length >= 2);
    for (const s of stages) assert.match(s, /^node:20[-\w.]*slim/);
  });

  it('runs as a non-root user, exposes 9863 and checks /-/healthy', () => {
    const final = stages.at(-1) ?? '';
    const user = /^USER (\S+)/m.exec(final)?.[1];
    assert.ok(user && user !== 'root' && user !== '0');
    assert.match(final, /^EXPOSE 9863$/m);
    assert.match(final, /^HEALTHCHECK [\s\S]*\/-\/healthy/m);
    assert.doesNotMatch(final, /COPY (--\S+ )*(\.|src|test)\s/, 'the runtime stage copies only build outputs');
  });
});

describe('dashboards', () => {
  interface Target {
    expr?: string;
    datasource?: { type?: string; uid?: string };
  }
  interface Panel {
    id: number;
    type: string;
    title: string;
    datasource?: { type?: string; uid?: string };
    targets?: Target[];
    panels?: Panel[];
    gridPos: { x: number; y: number; w: number; h: number };
    fieldConfig?: { defaults: { unit?: string; thresholds?: { steps: Array<{ value: number | null }> } } };
  }
  interface Dashboard {
    uid: string;
    title: string;
    panels: Panel[];
    templating: { list: Array<{ name: string; type: string; query?: unknown; datasource?: { uid?: string } }> };
  }
  const load = (file: string): Dashboard => JSON.parse(read(`dashboards/${file}`)) as Dashboard;
  const all: Array<[string, string, string]> = [
    ['host-audit.json', 'hostaudit-host-audit', 'Host audit'],
    ['service-detail.json', 'hostaudit-service-detail', 'Service detail'],
  ];
  const panelsOf = (d: Dashboard): Panel[] =>
    d.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));

  for (const [file, uid, title] of all) {
    describe(file, () => {
      const d = load(file);

      it('has its stable uid and title', () => {
        assert.equal(d.uid, uid);
        assert.equal(d.title, title);
        assert.ok(uid.length <= 40);
      });

      it('has a datasource variable (type prometheus) and job/instance variables, no ${DS_...} inputs', () => {
        const vars = new Map(d.templating.list.map((v) => [v.name, v]));
        assert.equal(vars.get('datasource')?.type, 'datasource');
        assert.equal(vars.get('datasource')?.query, 'prometheus');
        for (const name of ['job', 'instance']) {
          assert.equal(vars.get(name)?.type, 'query');
          assert.equal(vars.get(name)?.datasource?.uid, '${datasource}');
        }
        assert.doesNotMatch(read(`dashboards/${file}`), /\$\{DS_|__inputs/);
      });

      it('every panel reads from ${datasource}, has a unit and queries that filter on $job and $instance', () => {
        const panels = panelsOf(d);
        assert.ok(panels.length >= 8);
        for (const p of panels) {
          assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, p.title);
          assert.ok(p.fieldConfig?.defaults.unit, `${p.title}: unit`);
          assert.ok(p.targets && p.targets.length > 0, `${p.title}: targets`);
          for (const t of p.targets) {
            assert.deepEqual(t.datasource, { type: 'prometheus', uid: '${datasource}' }, p.title);
            assert.ok(t.expr, `${p.title}: expr`);
            assert.match(t.expr, /job=~"\$job"/, `${p.title}: $job`);
            assert.match(t.expr, /instance=~"\$instance"/, `${p.title}: $instance`);
            for (const m of t.expr.matchAll(/\brate\([^[]*\[([^\]]+)\]/g)) {
              assert.equal(m[1], '$__rate_interval', `${p.title}: rate() window`);
            }
          }
        }
      });

      it('has unique panel ids and a layout inside the 24-column grid', () => {
        const ids = d.panels.flatMap((p) => [p.id, ...(p.panels ?? []).map((q) => q.id)]);
        assert.equal(new Set(ids).size, ids.length);
        for (const p of d.panels) assert.ok(p.gridPos.x + p.gridPos.w <= 24, p.title);
      });
    });
  }

  it('Host audit covers storage, services, health and firing alerts', () => {
    const exprs = panelsOf(load('host-audit.json')).flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));
    for (const metric of [
      'hostaudit_path_bytes',
      'hostaudit_sqlite_bytes',
      'hostaudit_service_state',
      'hostaudit_service_cpu_seconds_total',
      'hostaudit_service_resident_memory_bytes',
      'hostaudit_service_restarts_total',
      'hostaudit_probe_success',
      'hostaudit_supervisor_up',
      'hostaudit_file_present',
      'hostaudit_host_tcp_connections',
      'ALERTS{alertname=~"HostAudit.*"',
    ]) {
      assert.ok(exprs.some((e) => e.includes(metric)), metric);
    }
  });

  it('Service detail has group and name variables and the per-service panels', () => {
    const d = load('service-detail.json');
    const names = d.templating.list.map((v) => v.name);
    assert.deepEqual(names, ['datasource', 'job', 'instance', 'group', 'name']);
    const exprs = panelsOf(d).flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));
    for (const metric of [
      'sum by (mode) (rate(hostaudit_service_cpu_seconds_total',
      'hostaudit_service_resident_memory_bytes',
      'hostaudit_service_processes',
      'hostaudit_service_open_fds',
      'hostaudit_service_tcp_connections',
      'hostaudit_service_log_bytes',
      'hostaudit_service_state',
    ]) {
      assert.ok(exprs.some((e) => e.includes(metric) && e.includes('name=~"$name"')), metric);
    }
  });

  it('draws the thresholds module\'s values as threshold lines', () => {
    const steps = (file: string, title: string): Array<number | null> =>
      panelsOf(load(file))
        .find((p) => p.title === title)
        ?.fieldConfig?.defaults.thresholds?.steps.map((s) => s.value) ?? [];
    assert.deepEqual(steps('host-audit.json', 'CPU per service (share of one core)'), [
      null,
      THRESHOLDS.serviceHighCpu.value,
      THRESHOLDS.serviceCpuSaturated.value,
    ]);
    assert.deepEqual(steps('host-audit.json', 'Resident memory per service (stacked)'), [null, THRESHOLDS.serviceMemoryHigh.value]);
    assert.deepEqual(steps('host-audit.json', 'Logs directory and its 7-day prediction'), [
      null,
      THRESHOLDS.logsLarge.value,
      THRESHOLDS.logsGrowth.value,
    ]);
    assert.deepEqual(steps('host-audit.json', 'SQLite WAL files'), [null, THRESHOLDS.sqliteWalLarge.value]);
    assert.deepEqual(steps('service-detail.json', 'CPU by mode (share of one core)'), [
      null,
      THRESHOLDS.serviceHighCpu.value,
      THRESHOLDS.serviceCpuSaturated.value,
    ]);
  });
});
