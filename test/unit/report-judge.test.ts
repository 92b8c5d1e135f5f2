// Anomalies judged from report figures with the thresholds module, baseline validation and
// comparison, and the renderers, on hand-made reports.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { THRESHOLDS } from '../../src/monitoring/thresholds.js';
import { growthBasis, hasWarningOrAbove, judge, overallStatus } from '../../src/report/anomalies.js';
import { FAILURE_TEXT, type SupervisorFailure } from '../../src/sources/supervisor-error.js';
import { compare, parseBaseline } from '../../src/report/baseline.js';
import { finishReport } from '../../src/report/finish-report.js';
import { renderHtml } from '../../src/report/html.js';
import { renderJson } from '../../src/report/json.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { REPORT_SCHEMA, type AuditReport, type ServiceFigure } from '../../src/report/model.js';
import { ConfigError } from '../../src/errors.js';

function service(name: string, cpu: number | null, mem = 50e6, state = 'RUNNING'): ServiceFigure {
  return { group: name, name, state, cpu_percent: cpu, memory_bytes: mem, processes: 1, uptime_seconds: 1200, log_bytes: 0, tcp_connections: 0, description: 'pid 1, uptime 0:20:00', restarts_in_sample: 0 };
}

function report(over: Partial<AuditReport> = {}): AuditReport {
  const services = over.services ?? [service('main_app', 7.2), service('kalshi_api_watchdog', 0.5)];
  return {
    schema: REPORT_SCHEMA,
    generated_at: '2025-07-28T12:00:00.000Z',
    hostname: 'trading-1',
    exporter_version: '0.1.0',
    config_file: null,
    sample_seconds: 5,
    cpu_window_seconds: 5.01,
    status: 'healthy',
    storage: {
      paths: [
        { name: 'system', path: '/srv/trading', bytes: 2.1e9, files: 1000, scan_errors: 0, files_modified: {} },
        { name: 'logs', path: '/srv/trading/logs', bytes: 479e6, files: 40, scan_errors: 0, files_modified: { '10m': 14, '1h': 22 } },
        { name: 'data', path: '/srv/trading/data', bytes: 404e6, files: 30, scan_errors: 0, files_modified: {} },
      ],
      databases: [
        { database: 'btc_price_history', path: '/srv/trading/data/btc_price_history.db', bytes: 4.2e6, main_bytes: 4.2e6, wal_bytes: null, ok: true, tables: 2, indexes: 3 },
      ],
      databases_bytes: 4.2e6,
    },
    supervisor: { up: true, url: 'unix:///var/run/supervisor.sock', version: '4.2.5', services_total: services.length, services_running: services.filter((s) => s.state === 'RUNNING').length, failure: null, error: null },
    services,
    processes: { by_name: { python: 16 }, services_memory_bytes: services.reduce((a, s) => a + (s.memory_bytes ?? 0), 0), top_cpu: null },
    host: { memory: { total_bytes: 8e9, available_bytes: 5e9, used_bytes: 3e9 }, tcp: { established: 80, listen: 5, time_wait: 11 }, network_connections: 91 },
    health: { probes: [{ probe: 'web', url: 'http://127.0.0.1:3000/health', success: true, status_code: 200, duration_seconds: 0.01 }], critical_files: [{ path: '/srv/trading/config/production.yaml', present: true }] },
    recent_activity: { files_modified: [{ name: 'logs', path: '/srv/trading/logs', within: '1h', files: 22 }], service_uptime_avg_seconds: 1200 },
    anomalies: [],
    collectors: [{ collector: 'supervisor', success: true }],
    ...over,
  };
}

describe('anomalies', () => {
  it('finds nothing in a healthy report: exit 0', () => {
    const a = judge(report());
    assert.deepEqual(a, []);
    assert.equal(overallStatus(a), 'healthy');
    assert.equal(hasWarningOrAbove(a), false);
  });

  it('judges CPU by the thresholds module: above 0.40 cores warning, above 0.80 critical, not both', () => {
    const a = judge(report({ services: [service('kalshi_account_sync', 45.9), service('coordinator', 86.7), service('idle', 40)] }));
    assert.deepEqual(
      a.map((x) => [x.threshold, x.subject, x.severity]),
      [
        ['serviceCpuSaturated', 'coordinator', 'critical'],
        ['serviceHighCpu', 'kalshi_account_sync', 'warning'],
      ],
    );
    assert.equal(a[1]?.limit, THRESHOLDS.serviceHighCpu.value);
    assert.equal(a[1]?.value, 0.459);
    // Phrased from this host's names and thresholds, not the original audit's words.
    assert.match(a[1]?.recommendation ?? '', /kalshi_account_sync's CPU/);
    assert.notEqual(a[1]?.recommendation, THRESHOLDS.serviceHighCpu.recommendation);
    assert.equal(overallStatus(a), 'critical');
    assert.equal(hasWarningOrAbove(a), true);
  });

  it('flags down services, supervisord down, failing probes, missing files, unreadable databases, large logs and WAL, failing collectors', () => {
    const r = report({ services: [service('crasher', null, 0, 'FATAL'), service('ok', 1)] });
    r.supervisor.up = false;
    r.health.probes[0]!.success = false;
    r.health.critical_files[0]!.present = false;
    r.storage.databases[0]!.ok = false;
    r.storage.databases[0]!.wal_bytes = 65 * 2 ** 20;
    r.storage.paths[1]!.bytes = 1.1 * 2 ** 30;
    r.storage.paths[0]!.bytes = 3.9e9;
    r.collectors.push({ collector: 'sqlite', success: false });
    const keys = judge(r).map((x) => x.threshold).sort();
    assert.deepEqual(keys, [
      'collectorFailing',
      'criticalFileMissing',
      'databaseUnreadable',
      'logsLarge',
      'serviceDown',
      'sqliteWalLarge',
      'supervisorDown',
      'systemSizeRegression',
      'webInterfaceDown',
    ]);
  });

  it('sums service memory against 1.5 GiB', () => {
    const below = judge(report({ services: [service('a', 1, 0.7 * 2 ** 30), service('b', 1, 0.7 * 2 ** 30)] }));
    assert.deepEqual(below, []);
    const above = judge(report({ services: [service('a', 1, 0.8 * 2 ** 30), service('b', 1, 0.8 * 2 ** 30)] }));
    assert.deepEqual(above.map((x) => x.threshold), ['serviceMemoryHigh']);
  });

  it('predicts growth from a baseline: logs past 2.5 GB within 7 days, a database doubling within 30 days (info)', () => {
    const base = parseBaseline(
      {
        schema: REPORT_SCHEMA,
        generated_at: '2025-07-27T12:00:00.000Z', // one day earlier
        storage: { paths: [{ name: 'logs', bytes: 200e6 }], databases: [{ path: '/srv/trading/data/btc_price_history.db', main_bytes: 3.8e6 }] },
      },
      'base.json',
    );
    // logs: 479MB, +279MB/day → 2.4GB in 7 days: no; db +0.4MB/day → 16.2MB in 30 days: ×3.9
    let a = judge(report(), base);
    assert.deepEqual(a.map((x) => [x.threshold, x.severity]), [['databaseGrowth', 'info']]);
    assert.equal(hasWarningOrAbove(a), false);
    assert.equal(overallStatus(a), 'info');
    const r = report();
    r.storage.paths[1]!.bytes = 600e6; // +400MB/day → 3.4GB in 7 days
    a = judge(r, base);
    assert.ok(a.some((x) => x.threshold === 'logsGrowth' && x.severity === 'warning'));
  });
});

describe('baseline', () => {
  it('rejects what is not a report, naming the key', () => {
    const bad: Array<[unknown, RegExp]> = [
      [[1, 2], /\(top level\): must be an object/],
      [{ schema: 'other' }, /schema: must be "hostaudit-audit\/1"/],
      [{ schema: REPORT_SCHEMA, generated_at: 'yesterday' }, /generated_at: must be an ISO 8601 date/],
      [{ schema: REPORT_SCHEMA, storage: { paths: [{ name: 'logs', bytes: '2.5GB' }] } }, /storage\.paths\[0\]\.bytes: must be a number/],
      [{ schema: REPORT_SCHEMA, services: [{ group: 'a', name: 'a', cpu_percent: '12%' }] }, /services\[0\]\.cpu_percent: must be a number/],
      [{ schema: REPORT_SCHEMA, processes: { by_name: { python: 'many' } } }, /processes\.by_name\.python: must be a number/],
    ];
    for (const [doc, re] of bad) {
      assert.throws(() => parseBaseline(doc, 'b.json'), (e: unknown) => e instanceof ConfigError && re.test(e.message) && e.message.startsWith('b.json: '));
    }
  });

  it("compares with the audit's percentages", () => {
    const base = parseBaseline(
      {
        schema: REPORT_SCHEMA,
        storage: { paths: [{ name: 'system', bytes: 3.8e9 }, { name: 'logs', bytes: 2.5e9 }, { name: 'data', bytes: 349e6 }], databases_bytes: 4.2e6 },
        services: [{ group: 'main_app', name: 'main_app', cpu_percent: 7.2, memory_bytes: 156e6 }],
        supervisor: { services_total: 11 },
        processes: { by_name: { python: 15 } },
      },
      'b.json',
    );
    const rows = compare(report(), base);
    const get = (section: string, component: string, unit?: string) => rows.find((r) => r.section === section && r.component === component && (!unit || r.unit === unit));
    assert.equal(get('storage', 'system')?.change_percent, -44.7);
    assert.equal(get('storage', 'logs')?.change_percent, -80.8);
    assert.equal(get('storage', 'data')?.change_percent, 15.8);
    assert.equal(get('storage', 'databases')?.change_percent, 0);
    assert.equal(get('processes', 'python processes')?.change_percent, 6.7);
    assert.equal(get('processes', 'supervisor services')?.baseline, 11);
    assert.equal(get('processes', 'supervisor services')?.now, 2);
    assert.equal(get('services', 'main_app', 'percent')?.change_percent, 0);
    assert.equal(get('services', 'main_app', 'bytes')?.change_percent, -67.9);
    // only in this report: no baseline, no percentage
    assert.equal(get('services', 'kalshi_api_watchdog', 'percent')?.baseline, null);
    assert.equal(get('services', 'kalshi_api_watchdog', 'percent')?.change_percent, null);
    assert.equal(get('services', 'kalshi_api_watchdog', 'percent')?.presence, 'new');
    assert.equal(get('services', 'main_app', 'percent')?.presence, 'both');
    const r = report();
    r.baseline = { file: 'b.json', generated_at: null, age_seconds: null, growth_extrapolated: false, growth_note: null, rows };
    const md = renderMarkdown(r);
    assert.match(md, /\| \*\*system\*\* \| 3\.8GB \| 2\.1GB \| \*\*45% reduction\*\* \|/);
    assert.match(md, /\| \*\*logs\*\* \| 2\.5GB \| 479MB \| \*\*81% reduction\*\* \|/);
    assert.match(md, /\| \*\*data\*\* \| 349MB \| 404MB \| \+16% \|/);
    assert.match(md, /# COMPARATIVE SYSTEM AUDIT/);
  });
});

describe('renderers', () => {
  it('writes every section of the audit in markdown', () => {
    const r = report({ services: [service('kalshi_account_sync', 45.9), service('main_app', 7.2)] });
    r.anomalies = judge(r);
    r.status = overallStatus(r.anomalies);
    const md = renderMarkdown(r);
    for (const heading of [
      '### STORAGE',
      '### PROCESS ANALYSIS',
      '### SERVICE PERFORMANCE',
      '### SYSTEM HEALTH INDICATORS',
      '### RECENT ACTIVITY',
      '### STORAGE BREAKDOWN',
      '### DATABASE STATUS',
      '### PROCESS DISTRIBUTION',
      '## 🚨 ANOMALIES & OBSERVATIONS',
      '## 📊 JSON SUMMARY',
      '## 🎯 CONCLUSIONS',
    ]) {
      assert.ok(md.includes(heading), heading);
    }
    assert.match(md, /\| \*\*Supervisor Services\*\* \| ✅ All Running \| 2\/2 services active \|/);
    assert.match(md, /\| \*\*Network Connections\*\* \| ✅ Active \| 91 connections \(80 established, 11 time_wait; 5 listening sockets not counted\) \|/);
    assert.match(md, /- \*\*logs files modified \(1h\)\*\*: 22 files/);
    assert.match(md, /Total System: 2\.1GB\n├── logs: 479MB\n├── data: 404MB\n└── Other: 1\.2GB/);
    assert.match(md, /- \*\*Recommendation\*\*: Watch kalshi_account_sync's CPU on the dashboard/);
    assert.match(md, /\*\*Current Status\*\*: ⚠️ \*\*WARNING\*\*/);
    const summary = JSON.parse(/```json\n([\s\S]*?)\n```/.exec(md)?.[1] ?? 'null') as { audit: { system_health: Record<string, unknown> } };
    assert.deepEqual(summary.audit.system_health, {
      services_running: '2/2',
      supervisor: 'up',
      web_interface: 'healthy',
      database_files: '1_ok',
      network_connections: 91,
      critical_files: 'all_present',
    });
  });

  it('round-trips: the json output is a valid baseline', () => {
    const json = JSON.parse(renderJson(report())) as unknown;
    const base = parseBaseline(json, 'r.json');
    assert.equal(base.storage?.paths?.length, 3);
    const rows = compare(report(), base);
    assert.ok(rows.every((r) => r.change_percent === null || r.change_percent === 0));
  });
});

describe('what happened during the sample', () => {
  const svc = (name: string, restarts: number | null, uptime: number | null, state = 'RUNNING'): ServiceFigure => ({
    ...service(name, 1),
    state,
    restarts_in_sample: restarts,
    uptime_seconds: uptime,
  });

  it('judges restarts: at or above the flapping threshold a warning, fewer an observation, a short uptime an observation', () => {
    const a = judge(report({ services: [svc('loop', 3, 1), svc('once', 1, 2), svc('fresh', 0, 2), svc('steady', 0, 600), svc('unknown', null, 600)] }));
    assert.deepEqual(
      a.map((x) => [x.threshold, x.subject, x.severity, x.title]),
      [
        ['serviceFlapping', 'loop', 'warning', 'Service loop is flapping'],
        ['serviceFlapping', 'once', 'info', 'Service once restarted during the sample'],
        ['serviceFlapping', 'fresh', 'info', 'Service fresh started during the sample'],
      ],
    );
    assert.match(a[0]?.current ?? '', /^restarted 3 times during the 5s sample/);
    assert.equal(overallStatus(a), 'warning');
  });

  it('names the supervisord failure and gives its remedy, not a generic one', () => {
    const cases: Array<[SupervisorFailure, RegExp]> = [
      ['auth', /password_file/],
      ['permission', /chmod=0770/],
      ['unreachable', /is running/],
      ['timeout', /busy or blocked/],
      ['protocol', /not with supervisord's XML-RPC/],
    ];
    for (const [failure, remedy] of cases) {
      const r = report({ services: [] });
      r.supervisor = { ...r.supervisor, up: false, failure, error: 'x' };
      const down = judge(r).find((x) => x.threshold === 'supervisorDown');
      assert.equal(down?.title, `supervisord could not be read: ${failure}`);
      assert.match(down?.current ?? '', new RegExp(FAILURE_TEXT[failure].replace(/[()]/g, '\\$&')));
      assert.match(down?.recommendation ?? '', remedy);
    }
  });

  it('extrapolates growth only from a baseline at least an hour old, and says why not', () => {
    const young = growthBasis(report(), { generated_at: '2025-07-28T11:59:46.000Z' });
    assert.equal(young.extrapolate, false);
    assert.match(young.note ?? '', /the baseline is 14s old.*at least 1h old/);
    assert.equal(growthBasis(report(), { generated_at: '2025-07-28T10:59:00.000Z' }).extrapolate, true);
    assert.match(growthBasis(report(), {}).note ?? '', /no generated_at/);
    const base = parseBaseline({ schema: REPORT_SCHEMA, generated_at: '2025-07-28T11:59:46.000Z', storage: { paths: [{ name: 'logs', bytes: 1 }] } }, 'b.json');
    assert.equal(judge(report(), base).some((x) => x.threshold === 'logsGrowth'), false);
  });
});

describe('HTML renderer', () => {
  it('shows the baseline changes with new, gone and from 0, and why growth was not extrapolated', () => {
    const base = parseBaseline(
      {
        schema: REPORT_SCHEMA,
        generated_at: '2025-07-28T11:59:46.000Z',
        services: [
          { group: 'main_app', name: 'main_app', cpu_percent: 0, memory_bytes: 156e6 },
          { group: 'retired', name: 'retired', cpu_percent: 1, memory_bytes: 1e6 },
        ],
      },
      'b.json',
    );
    const r = finishReport(report(), { file: 'b.json', doc: base });
    const html = renderHtml(r);
    const section = html.slice(html.indexOf('<section id="baseline">'));
    assert.match(section, /Growth not extrapolated: the baseline is 14s old/);
    assert.match(section, /<td class="name">main_app CPU<\/td><td class="num">0\.0%<\/td><td class="num">7\.2%<\/td><td class="num[^"]*">from 0<\/td>/);
    assert.match(section, /<td class="name">retired CPU<\/td><td class="num">1\.0%<\/td><td class="num">n\/a<\/td><td class="num[^"]*">gone<\/td>/);
    assert.match(section, /<td class="name">kalshi_api_watchdog CPU<\/td><td class="num">n\/a<\/td><td class="num">0\.5%<\/td><td class="num[^"]*">new<\/td>/);
    assert.match(html, /<header class="healthy" id="status">/);
  });
});
