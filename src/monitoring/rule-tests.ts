// Unit tests for the alert rules, in promtool's `test rules` format; `npm run generate`
// writes one file per alert to alerts/tests/. Each alert is shown to fire at its threshold
// once `for` has passed, and not to fire below the threshold or before `for`. The expected
// descriptions are written out literally here (not rendered from the rules' templates), so
// the tests check the humanized values Prometheus really produces.
import { RUNBOOK_INSTANCE, runbookUrl } from './alert-rules.js';
import { EXPORTER_JOB_SELECTOR, THRESHOLDS, type ThresholdKey } from './thresholds.js';

const JOB = 'hostaudit';
const HOST = 'trading-host:9863';
const OTHER = 'standby-host:9863';
/** A host exactly at a threshold: the rules compare with `>`, so it stays silent. */
const EDGE = 'edge-host:9863';

type Labels = Record<string, string>;

interface InputSeries {
  series: string;
  values: string;
}

interface ExpAlert {
  exp_labels: Labels;
  exp_annotations: { summary: string; description: string; runbook_url: string };
}

interface AlertRuleTest {
  eval_time: string;
  alertname: string;
  exp_alerts: ExpAlert[];
}

interface TestGroup {
  name: string;
  interval: string;
  input_series: InputSeries[];
  alert_rule_test: AlertRuleTest[];
}

export interface RuleTestFile {
  rule_files: string[];
  evaluation_interval: string;
  tests: TestGroup[];
}

function series(metric: string, labels: Labels, values: string): InputSeries {
  const body = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ');
  return { series: `${metric}{${body}}`, values };
}

const host = (instance = HOST): Labels => ({ job: JOB, instance });
const svc = (group: string, name: string, instance = HOST): Labels => ({ ...host(instance), group, name });

/** An alert of `key` with exactly `labels` plus its severity, and its annotations. */
function expect(key: ThresholdKey, labels: Labels, description: string): ExpAlert {
  const t = THRESHOLDS[key];
  return {
    exp_labels: { ...labels, severity: t.severity },
    // promtool expands the link's template with the alert's own instance.
    exp_annotations: { summary: t.summary, description, runbook_url: runbookUrl(t.alert).split(RUNBOOK_INSTANCE).join(labels.instance ?? '') },
  };
}

function check(key: ThresholdKey, evalTime: string, alerts: ExpAlert[]): AlertRuleTest {
  return { eval_time: evalTime, alertname: THRESHOLDS[key].alert, exp_alerts: alerts };
}

/** A counter growing by `perMinute` for `minutes` samples at a 1m interval. */
const counter = (perMinute: number, minutes = 40): string => `0+${perMinute}x${minutes}`;

const SYNC = svc('kalshi', 'kalshi_account_sync');
const COORD = svc('trading', 'unified_production_coordinator');
const WATCHDOG = svc('kalshi', 'kalshi_api_watchdog');
const MAIN_APP = svc('web', 'main_app');

const LOGS = { ...host(), name: 'logs', path: '/srv/trading/logs' };
const SYSTEM = { ...host(), name: 'system', path: '/srv/trading' };
const BTC = { ...host(), database: 'btc_price_history', path: '/srv/trading/data/btc_price_history.db' };
const FILLS = { ...host(), database: 'fills', path: '/srv/trading/data/prod/fills.db' };
const TRADES = { ...host(), database: 'trades', path: '/srv/trading/data/trades.db' };

export const RULE_TESTS: Record<ThresholdKey, RuleTestFile> = {} as Record<ThresholdKey, RuleTestFile>;

function file(key: ThresholdKey, evaluationInterval: string, tests: TestGroup[]): void {
  RULE_TESTS[key] = { rule_files: ['../hostaudit.rules.yml'], evaluation_interval: evaluationInterval, tests };
}

// CPU: a counter of seconds; N cores = 60*N seconds per minute. rate() divides by the 5m
// range, so a counter that starts at 0 shows its full rate from 5m on: `for: 15m` fires at 20m.
file('serviceHighCpu', '1m', [
  {
    name: 'kalshi_account_sync at 45.9% of a core (user 40%, system 5.9%) fires; the coordinator at 21.2% does not',
    interval: '1m',
    input_series: [
      series('hostaudit_service_cpu_seconds_total', { ...SYNC, mode: 'user' }, counter(24)),
      series('hostaudit_service_cpu_seconds_total', { ...SYNC, mode: 'system' }, counter(3.54)),
      series('hostaudit_service_cpu_seconds_total', { ...COORD, mode: 'user' }, counter(12.72)),
      series('hostaudit_service_cpu_seconds_total', { ...COORD, mode: 'system' }, counter(0)),
      // 39% of a core: just below the threshold; 41%: just above.
      series('hostaudit_service_cpu_seconds_total', { ...WATCHDOG, mode: 'user' }, counter(23.4)),
      series('hostaudit_service_cpu_seconds_total', { ...MAIN_APP, mode: 'user' }, counter(24.6)),
    ],
    alert_rule_test: [
      check('serviceHighCpu', '10m', []),
      check('serviceHighCpu', '19m', []),
      check('serviceHighCpu', '21m', [
        expect(
          'serviceHighCpu',
          SYNC,
          'kalshi/kalshi_account_sync on trading-host:9863 has used 45.9% of a core (user+system, its whole process tree) for more than 15m; the threshold is 40%.',
        ),
        expect(
          'serviceHighCpu',
          MAIN_APP,
          'web/main_app on trading-host:9863 has used 41% of a core (user+system, its whole process tree) for more than 15m; the threshold is 40%.',
        ),
      ]),
    ],
  },
  {
    name: 'a burst shorter than 15m does not fire',
    interval: '1m',
    input_series: [
      // 45.9% for 10 minutes, then idle.
      series('hostaudit_service_cpu_seconds_total', { ...SYNC, mode: 'user' }, '0+27.54x10 275.4x30'),
    ],
    alert_rule_test: [check('serviceHighCpu', '12m', []), check('serviceHighCpu', '30m', [])],
  },
]);

file('serviceCpuSaturated', '1m', [
  {
    name: 'the coordinator at 86.7% fires 5m after its rate is measured; kalshi_account_sync at 45.9% does not',
    interval: '1m',
    input_series: [
      series('hostaudit_service_cpu_seconds_total', { ...COORD, mode: 'user' }, counter(45)),
      series('hostaudit_service_cpu_seconds_total', { ...COORD, mode: 'system' }, counter(7.02)),
      series('hostaudit_service_cpu_seconds_total', { ...SYNC, mode: 'user' }, counter(27.54)),
    ],
    alert_rule_test: [
      check('serviceCpuSaturated', '9m', []),
      check('serviceCpuSaturated', '11m', [
        expect(
          'serviceCpuSaturated',
          COORD,
          'trading/unified_production_coordinator on trading-host:9863 uses 86.7% of a core (user+system, its whole process tree); the threshold is 80%.',
        ),
      ]),
    ],
  },
]);

const STATES = ['STOPPED', 'STARTING', 'RUNNING', 'BACKOFF', 'STOPPING', 'EXITED', 'FATAL', 'UNKNOWN'];
/** The state set of one service: `timeline` lists its state minute by minute. */
function stateSet(labels: Labels, timeline: string[]): InputSeries[] {
  return STATES.map((state) =>
    series('hostaudit_service_state', { ...labels, state }, timeline.map((s) => (s === state ? '1' : '0')).join(' ')),
  );
}
const repeat = (state: string, n: number): string[] => Array.from({ length: n }, () => state);

file('serviceDown', '1m', [
  {
    name: 'main_app FATAL from 2m fires at 4m with its state; a STOPPED service and a RUNNING one do not',
    interval: '1m',
    input_series: [
      ...stateSet(MAIN_APP, [...repeat('RUNNING', 2), ...repeat('FATAL', 10)]),
      ...stateSet(SYNC, repeat('RUNNING', 12)),
      ...stateSet(WATCHDOG, repeat('STOPPED', 12)),
    ],
    alert_rule_test: [
      check('serviceDown', '3m', []),
      check('serviceDown', '5m', [
        expect(
          'serviceDown',
          { ...MAIN_APP, state: 'FATAL' },
          'web/main_app on trading-host:9863 has been in state FATAL for more than 2m.',
        ),
      ]),
    ],
  },
  {
    name: 'BACKOFF and EXITED fire too; a short BACKOFF that recovers does not',
    interval: '1m',
    input_series: [
      ...stateSet(SYNC, repeat('BACKOFF', 6)),
      ...stateSet(COORD, repeat('EXITED', 6)),
      ...stateSet(WATCHDOG, ['BACKOFF', 'STARTING', ...repeat('RUNNING', 4)]),
    ],
    alert_rule_test: [
      check('serviceDown', '3m', [
        expect(
          'serviceDown',
          { ...SYNC, state: 'BACKOFF' },
          'kalshi/kalshi_account_sync on trading-host:9863 has been in state BACKOFF for more than 2m.',
        ),
        expect(
          'serviceDown',
          { ...COORD, state: 'EXITED' },
          'trading/unified_production_coordinator on trading-host:9863 has been in state EXITED for more than 2m.',
        ),
      ]),
    ],
  },
]);

// Flapping: evaluated between scrapes (at :30), as in real life, so increase() extrapolates:
// three restarts read as 3.2 and must not fire "more than 3"; four must.
file('serviceFlapping', '30s', [
  {
    name: 'four restarts in 15m fire at once; three do not, despite extrapolation',
    interval: '1m',
    input_series: [
      series('hostaudit_service_restarts_total', SYNC, '5x10 6 7 8 9 9x20'),
      series('hostaudit_service_restarts_total', COORD, '5x10 6 7 8 8x20'),
    ],
    alert_rule_test: [
      check('serviceFlapping', '10m30s', []),
      check('serviceFlapping', '20m30s', [
        expect(
          'serviceFlapping',
          SYNC,
          'kalshi/kalshi_account_sync on trading-host:9863 restarted 4 times in the last 15m (more than 3 is a crash loop).',
        ),
      ]),
      // Once the restarts leave the 15m window, it resolves.
      check('serviceFlapping', '29m30s', []),
    ],
  },
  {
    name: 'a new service with three restarts does not fire',
    interval: '1m',
    input_series: [series('hostaudit_service_restarts_total', MAIN_APP, '0 1 2 3 3 3 3')],
    alert_rule_test: [check('serviceFlapping', '3m30s', []), check('serviceFlapping', '5m30s', [])],
  },
]);

file('supervisorDown', '1m', [
  {
    name: 'supervisor_up 0 from 2m fires at 3m; a healthy host does not',
    interval: '1m',
    input_series: [
      series('hostaudit_supervisor_up', host(), '1 1 0x10'),
      series('hostaudit_supervisor_up', host(OTHER), '1x12'),
    ],
    alert_rule_test: [
      check('supervisorDown', '2m', []),
      check('supervisorDown', '4m', [
        expect(
          'supervisorDown',
          host(),
          'supervisord on trading-host:9863 has not answered the exporter for 1m (hostaudit_supervisor_up = 0); no service state is known.',
        ),
      ]),
    ],
  },
]);

const MiB = 2 ** 20;
file('serviceMemoryHigh', '1m', [
  {
    name: '1000 MiB + 700 MiB fires after 15m; a host at 1.2 GB and one at exactly 1.5 GiB do not',
    interval: '1m',
    input_series: [
      series('hostaudit_service_resident_memory_bytes', SYNC, `${1000 * MiB}x20`),
      series('hostaudit_service_resident_memory_bytes', COORD, `${700 * MiB}x20`),
      series('hostaudit_service_resident_memory_bytes', svc('kalshi', 'kalshi_account_sync', OTHER), '700000000x20'),
      series('hostaudit_service_resident_memory_bytes', svc('web', 'main_app', OTHER), '500000000x20'),
      series('hostaudit_service_resident_memory_bytes', svc('kalshi', 'kalshi_account_sync', EDGE), `${1024 * MiB}x20`),
      series('hostaudit_service_resident_memory_bytes', svc('web', 'main_app', EDGE), `${512 * MiB}x20`),
    ],
    alert_rule_test: [
      check('serviceMemoryHigh', '14m', []),
      check('serviceMemoryHigh', '16m', [
        expect(
          'serviceMemoryHigh',
          host(),
          'The services on trading-host:9863 use 1.66GiB of resident memory together; the threshold is 1.5 GiB (the audit measured ~1.2 GB).',
        ),
      ]),
    ],
  },
]);

file('logsLarge', '1m', [
  {
    name: 'logs at 1.25 GiB fire after 15m; logs at 479 MB or exactly 1 GiB and a 2 GiB data directory do not',
    interval: '1m',
    input_series: [
      series('hostaudit_path_bytes', LOGS, `${1.25 * 2 ** 30}x20`),
      series('hostaudit_path_bytes', { ...host(OTHER), name: 'logs', path: '/srv/trading/logs' }, '479000000x20'),
      series('hostaudit_path_bytes', { ...host(EDGE), name: 'logs', path: '/srv/trading/logs' }, `${2 ** 30}x20`),
      series('hostaudit_path_bytes', { ...host(), name: 'data', path: '/srv/trading/data' }, `${2 * 2 ** 30}x20`),
    ],
    alert_rule_test: [
      check('logsLarge', '14m', []),
      check('logsLarge', '16m', [
        expect('logsLarge', LOGS, '/srv/trading/logs on trading-host:9863 holds 1.25GiB; the threshold is 1 GiB.'),
      ]),
    ],
  },
]);

// Growth: 10m samples; predict_linear needs two, so the condition first holds at 10m and
// `for: 1h` fires at 1h10m.
file('logsGrowth', '10m', [
  {
    name: 'logs at 479 MB growing 18 MB/h fire after 1h; growing 0.6 MB/h they do not',
    interval: '10m',
    input_series: [
      series('hostaudit_path_bytes', LOGS, '479000000+3000000x40'),
      series('hostaudit_path_bytes', { ...host(OTHER), name: 'logs', path: '/srv/trading/logs' }, '479000000+100000x40'),
      // The data directory growing fast is not the logs directory.
      series('hostaudit_path_bytes', { ...host(), name: 'data', path: '/srv/trading/data' }, '404000000+9000000x40'),
    ],
    alert_rule_test: [
      check('logsGrowth', '1h', []),
      check('logsGrowth', '1h20m', [
        expect(
          'logsGrowth',
          LOGS,
          '/srv/trading/logs on trading-host:9863 is predicted to hold 3.527GB within 7 days (linear fit over 6h); the threshold is 2.5 GB.',
        ),
      ]),
    ],
  },
]);

file('databaseGrowth', '10m', [
  {
    name: 'btc_price_history growing 60 KB/h (to double within 30 days) fires after 1h; fills growing 600 B/h and a static trades.db do not',
    interval: '10m',
    input_series: [
      series('hostaudit_sqlite_bytes', { ...BTC, file: 'main' }, '4200000+10000x40'),
      // Its WAL growing fast is the WAL alert's business.
      series('hostaudit_sqlite_bytes', { ...BTC, file: 'wal' }, '0+1000000x40'),
      series('hostaudit_sqlite_bytes', { ...FILLS, file: 'main' }, '784000+100x40'),
      series('hostaudit_sqlite_bytes', { ...TRADES, file: 'main' }, '72000x40'),
    ],
    alert_rule_test: [
      check('databaseGrowth', '1h', []),
      check('databaseGrowth', '1h20m', [
        expect(
          'databaseGrowth',
          { ...BTC, file: 'main' },
          'btc_price_history (/srv/trading/data/btc_price_history.db) on trading-host:9863 is predicted to reach 45.28MiB within 30 days (linear fit over 6h), more than 2 times its current size.',
        ),
      ]),
    ],
  },
]);

file('sqliteWalLarge', '1m', [
  {
    name: 'an 80 MiB WAL fires after 30m; a 10 MiB WAL, an exactly 64 MiB one and a 100 MiB main file do not',
    interval: '1m',
    input_series: [
      series('hostaudit_sqlite_bytes', { ...FILLS, file: 'wal' }, `${80 * MiB}x40`),
      series('hostaudit_sqlite_bytes', { ...BTC, file: 'wal' }, `${10 * MiB}x40`),
      series('hostaudit_sqlite_bytes', { ...TRADES, file: 'wal' }, `${64 * MiB}x40`),
      series('hostaudit_sqlite_bytes', { ...BTC, file: 'main' }, `${100 * MiB}x40`),
    ],
    alert_rule_test: [
      check('sqliteWalLarge', '29m', []),
      check('sqliteWalLarge', '31m', [
        expect(
          'sqliteWalLarge',
          { ...FILLS, file: 'wal' },
          'The WAL of fills (/srv/trading/data/prod/fills.db) on trading-host:9863 is 80MiB; the threshold is 64 MiB.',
        ),
      ]),
    ],
  },
]);

file('databaseUnreadable', '1m', [
  {
    name: 'sqlite_ok 0 from 2m fires at 7m; a readable database does not',
    interval: '1m',
    input_series: [series('hostaudit_sqlite_ok', FILLS, '1 1 0x10'), series('hostaudit_sqlite_ok', BTC, '1x12')],
    alert_rule_test: [
      check('databaseUnreadable', '6m', []),
      check('databaseUnreadable', '8m', [
        expect(
          'databaseUnreadable',
          FILLS,
          '/srv/trading/data/prod/fills.db on trading-host:9863 has not been a readable SQLite database for 5m (hostaudit_sqlite_ok = 0).',
        ),
      ]),
    ],
  },
]);

const WEB = { ...host(), probe: 'web', url: 'http://127.0.0.1:3000/health' };
file('webInterfaceDown', '1m', [
  {
    name: 'the web probe failing from 2m fires at 4m; a passing probe does not',
    interval: '1m',
    input_series: [
      series('hostaudit_probe_success', WEB, '1 1 0x10'),
      series('hostaudit_probe_success', { ...host(), probe: 'api', url: 'http://127.0.0.1:8080/health' }, '1x12'),
    ],
    alert_rule_test: [
      check('webInterfaceDown', '3m', []),
      check('webInterfaceDown', '5m', [
        expect(
          'webInterfaceDown',
          WEB,
          'Probe web (http://127.0.0.1:3000/health) from trading-host:9863 has failed for 2m (hostaudit_probe_success = 0).',
        ),
      ]),
    ],
  },
]);

const PROD_YAML = { ...host(), path: '/srv/trading/config/production.yaml' };
file('criticalFileMissing', '1m', [
  {
    name: 'production.yaml missing from 2m fires at 3m; a present file does not',
    interval: '1m',
    input_series: [
      series('hostaudit_file_present', PROD_YAML, '1 1 0x10'),
      series('hostaudit_file_present', { ...host(), path: '/srv/trading/config/secrets.env' }, '1x12'),
    ],
    alert_rule_test: [
      check('criticalFileMissing', '2m', []),
      check('criticalFileMissing', '4m', [
        expect(
          'criticalFileMissing',
          PROD_YAML,
          '/srv/trading/config/production.yaml on trading-host:9863 has been missing or unreadable for 1m (hostaudit_file_present = 0).',
        ),
      ]),
    ],
  },
]);

file('systemSizeRegression', '1m', [
  {
    name: 'the system directory at 4 GB fires after 1h; at 2.1 GB or exactly 3.8 GB it does not',
    interval: '1m',
    input_series: [
      series('hostaudit_path_bytes', SYSTEM, '4000000000x70'),
      series('hostaudit_path_bytes', { ...host(OTHER), name: 'system', path: '/srv/trading' }, '2100000000x70'),
      series('hostaudit_path_bytes', { ...host(EDGE), name: 'system', path: '/srv/trading' }, '3800000000x70'),
    ],
    alert_rule_test: [
      check('systemSizeRegression', '59m', []),
      check('systemSizeRegression', '61m', [
        expect(
          'systemSizeRegression',
          SYSTEM,
          '/srv/trading on trading-host:9863 holds 4GB; the threshold is 3.8 GB (3.8 GB before optimization, 2.1 GB after).',
        ),
      ]),
    ],
  },
]);

file('collectorFailing', '1m', [
  {
    name: 'the sqlite collector failing from 1m fires at 11m; a succeeding collector does not',
    interval: '1m',
    input_series: [
      series('hostaudit_collector_success', { ...host(), collector: 'sqlite' }, '1 0x15'),
      series('hostaudit_collector_success', { ...host(), collector: 'supervisor' }, '1x15'),
    ],
    alert_rule_test: [
      check('collectorFailing', '10m', []),
      check('collectorFailing', '12m', [
        expect(
          'collectorFailing',
          { ...host(), collector: 'sqlite' },
          'The sqlite collector of the exporter on trading-host:9863 has failed for 10m (hostaudit_collector_success = 0).',
        ),
      ]),
    ],
  },
]);

// Beyond the original alert table: Prometheus's `up` for the exporter's scrape job. The job is the one
// EXPORTER_JOB_SELECTOR names when it is a plain `job="..."` (for a regex, write a matching
// job name here).
const EXPORTER_JOB = /^job="([^"]+)"$/.exec(EXPORTER_JOB_SELECTOR)?.[1] ?? JOB;
const EXPORTER = { job: EXPORTER_JOB, instance: HOST };
file('exporterDown', '1m', [
  {
    name: 'the exporter unscraped from 2m fires at 7m with job and instance only; a scraped target and another job down do not',
    interval: '1m',
    input_series: [
      // A target label from service discovery (env) is aggregated away.
      series('up', { ...EXPORTER, env: 'prod' }, '1 1 0x12'),
      series('up', { job: EXPORTER_JOB, instance: OTHER }, '1x14'),
      // Another job's target down on the same host is not the exporter.
      series('up', { job: 'node', instance: 'trading-host:9100' }, '0x14'),
      series('up', { job: 'node', instance: HOST }, '0x14'),
    ],
    alert_rule_test: [
      check('exporterDown', '2m', []),
      check('exporterDown', '6m', []),
      check('exporterDown', '7m', [
        expect(
          'exporterDown',
          EXPORTER,
          `Prometheus has failed to scrape the exporter at trading-host:9863 (job ${EXPORTER_JOB}) for 5m (up = 0); no other HostAudit alert can fire for this target.`,
        ),
      ]),
      check('exporterDown', '12m', [
        expect(
          'exporterDown',
          EXPORTER,
          `Prometheus has failed to scrape the exporter at trading-host:9863 (job ${EXPORTER_JOB}) for 5m (up = 0); no other HostAudit alert can fire for this target.`,
        ),
      ]),
    ],
  },
  {
    name: 'a scrape outage of 4m does not fire; one of 8m fires at 5m and resolves once scraped again',
    interval: '1m',
    input_series: [
      series('up', EXPORTER, '1 0 0 0 0 1x10'),
      series('up', { job: EXPORTER_JOB, instance: OTHER }, '0x7 1x8'),
    ],
    alert_rule_test: [
      check('exporterDown', '4m', []),
      check('exporterDown', '5m', [
        expect(
          'exporterDown',
          { job: EXPORTER_JOB, instance: OTHER },
          `Prometheus has failed to scrape the exporter at standby-host:9863 (job ${EXPORTER_JOB}) for 5m (up = 0); no other HostAudit alert can fire for this target.`,
        ),
      ]),
      check('exporterDown', '8m', []),
    ],
  },
]);

// A fleet host's agent writes its `up` into the central store: when the agent goes, samples stop.
// Instances are host names there (fleet/agent/prometheus.yml relabels them).
const silent = (instance: string, scrapes: number): ExpAlert =>
  expect(
    'hostSilent',
    { instance },
    `${instance} has sent no samples to the central store for 10m (${scrapes} scrapes arrived from it over the last 24h): its agent, its network or the whole host is gone.`,
  );

file('hostSilent', '1m', [
  {
    name: 'a host whose samples stop at 10m fires at 21m with instance only; a host reporting up == 0 and one never seen do not',
    interval: '1m',
    input_series: [
      // Two jobs of the same host (the exporter and the agent itself): one alert, by instance.
      series('up', { job: EXPORTER_JOB, instance: 'trading-host-3', env: 'prod' }, '1x10'),
      series('up', { job: 'prometheus-agent', instance: 'trading-host-3' }, '1x10'),
      series('up', { job: EXPORTER_JOB, instance: 'trading-host-1' }, '1x40'),
      // Its exporter is down but its agent still writes up == 0: HostAuditExporterDown's case.
      series('up', { job: EXPORTER_JOB, instance: 'trading-host-2' }, '0x40'),
      // Another job's target that stopped is not a host going silent.
      series('up', { job: 'node', instance: 'trading-host-4' }, '1x5'),
    ],
    alert_rule_test: [
      check('hostSilent', '5m', []),
      check('hostSilent', '19m', []),
      check('hostSilent', '21m', [silent('trading-host-3', 11)]),
      check('hostSilent', '40m', [silent('trading-host-3', 11)]),
    ],
  },
  {
    name: 'a host that comes back resolves; one silent for more than 24h is forgotten',
    interval: '10m',
    input_series: [
      // Gone from 30m to 1h30m, then back.
      series('up', { job: EXPORTER_JOB, instance: 'trading-host-1' }, '1x3 _x5 1x200'),
      // Last seen at 20m.
      series('up', { job: EXPORTER_JOB, instance: 'trading-host-2' }, '1x2'),
    ],
    alert_rule_test: [
      check('hostSilent', '1h', [silent('trading-host-1', 4), silent('trading-host-2', 3)]),
      check('hostSilent', '2h', [silent('trading-host-2', 3)]),
      check('hostSilent', '24h30m', []),
    ],
  },
]);

/** alerts/tests/<file name> for an alert: HostAuditServiceHighCPU → service-high-cpu.test.yml. */
export function ruleTestFileName(key: ThresholdKey): string {
  return `${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}.test.yml`;
}

// 0.2: the quiet failures. Timestamps are unix seconds of promtool's clock, which starts at 0,
// so a last write "at 0" is as old as the evaluation time.
const BTC_FEED = { ...host(), database: 'btc_price_history', path: '/srv/trading/data/btc_price_history.db' };
const FILLS_FEED = { ...host(), database: 'fills', path: '/srv/trading/data/prod/fills.db' };
file('databaseStale', '1m', [
  {
    name: 'btc_price_history unwritten since 0 with expect_write_within 5m fires after 5m; a database written every minute, and one without expectation, do not',
    interval: '1m',
    input_series: [
      series('hostaudit_sqlite_last_write_timestamp_seconds', BTC_FEED, '0x20'),
      series('hostaudit_sqlite_expected_write_within_seconds', BTC_FEED, '300x20'),
      series('hostaudit_sqlite_last_write_timestamp_seconds', FILLS_FEED, '0+60x20'),
      series('hostaudit_sqlite_expected_write_within_seconds', FILLS_FEED, '120x20'),
      series('hostaudit_sqlite_last_write_timestamp_seconds', TRADES, '0x20'),
    ],
    alert_rule_test: [
      check('databaseStale', '5m', []),
      check('databaseStale', '6m', [
        expect(
          'databaseStale',
          BTC_FEED,
          'btc_price_history (/srv/trading/data/btc_price_history.db) on trading-host:9863 was last written 6m 0s ago, longer than its expect_write_within.',
        ),
      ]),
    ],
  },
]);

file('serviceSilent', '1m', [
  {
    name: 'kalshi_account_sync RUNNING, its logs unwritten for more than 10m, fires; a stopped service and one that writes do not',
    interval: '1m',
    input_series: [
      series('hostaudit_service_log_last_write_timestamp_seconds', { ...SYNC, stream: 'stdout' }, '0x20'),
      series('hostaudit_service_log_last_write_timestamp_seconds', { ...SYNC, stream: 'stderr' }, '0x20'),
      series('hostaudit_service_expected_log_write_within_seconds', SYNC, '600x20'),
      series('hostaudit_service_up', SYNC, '1x20'),
      series('hostaudit_service_log_last_write_timestamp_seconds', { ...WATCHDOG, stream: 'stdout' }, '0x20'),
      series('hostaudit_service_expected_log_write_within_seconds', WATCHDOG, '60x20'),
      series('hostaudit_service_up', WATCHDOG, '0x20'),
      series('hostaudit_service_log_last_write_timestamp_seconds', { ...MAIN_APP, stream: 'stdout' }, '0+60x20'),
      series('hostaudit_service_expected_log_write_within_seconds', MAIN_APP, '120x20'),
      series('hostaudit_service_up', MAIN_APP, '1x20'),
    ],
    alert_rule_test: [
      check('serviceSilent', '10m', []),
      check('serviceSilent', '11m', [
        expect(
          'serviceSilent',
          SYNC,
          'kalshi/kalshi_account_sync on trading-host:9863 is RUNNING but last wrote its log 11m 0s ago, longer than its expect_log_write_within.',
        ),
      ]),
    ],
  },
]);

file('deletedFilesHeld', '1m', [
  {
    name: 'kalshi_account_sync holding 150 MiB of deleted logs fires after 15m; exactly 100 MiB does not',
    interval: '1m',
    input_series: [
      series('hostaudit_service_deleted_open_bytes', SYNC, `${150 * MiB}x30`),
      series('hostaudit_service_deleted_open_bytes', WATCHDOG, `${100 * MiB}x30`),
    ],
    alert_rule_test: [
      check('deletedFilesHeld', '14m', []),
      check('deletedFilesHeld', '16m', [
        expect(
          'deletedFilesHeld',
          SYNC,
          'kalshi/kalshi_account_sync on trading-host:9863 holds 150MiB of deleted files open: disk that is not freed until it closes them; the threshold is 100 MiB.',
        ),
      ]),
    ],
  },
]);

file('serviceLogUnrotated', '1m', [
  {
    name: 'a 300 MiB stdout log never rotated fires after 15m; one rotated at 50 MiB, and an unrotated one of 200 MiB, do not',
    interval: '1m',
    input_series: [
      series('hostaudit_service_log_bytes', { ...SYNC, stream: 'stdout' }, `${300 * MiB}x30`),
      series('hostaudit_service_log_rotation_max_bytes', { ...SYNC, stream: 'stdout' }, '0x30'),
      series('hostaudit_service_log_bytes', { ...COORD, stream: 'stdout' }, `${300 * MiB}x30`),
      series('hostaudit_service_log_rotation_max_bytes', { ...COORD, stream: 'stdout' }, `${50 * MiB}x30`),
      series('hostaudit_service_log_bytes', { ...MAIN_APP, stream: 'stderr' }, `${200 * MiB}x30`),
      series('hostaudit_service_log_rotation_max_bytes', { ...MAIN_APP, stream: 'stderr' }, '0x30'),
    ],
    alert_rule_test: [
      check('serviceLogUnrotated', '14m', []),
      check('serviceLogUnrotated', '16m', [
        expect(
          'serviceLogUnrotated',
          { ...SYNC, stream: 'stdout' },
          'The stdout log of kalshi/kalshi_account_sync on trading-host:9863 is 300MiB and supervisor never rotates it (stdout_logfile_maxbytes = 0); the threshold is 256 MiB.',
        ),
      ]),
    ],
  },
]);

file('serviceFdExhaustion', '1m', [
  {
    name: 'a process at 90% of its open-files limit fires after 5m; one at exactly 80% does not',
    interval: '1m',
    input_series: [
      series('hostaudit_service_fd_usage_ratio', SYNC, '0.9x20'),
      series('hostaudit_service_fd_usage_ratio', WATCHDOG, '0.8x20'),
    ],
    alert_rule_test: [
      check('serviceFdExhaustion', '4m', []),
      check('serviceFdExhaustion', '6m', [
        expect('serviceFdExhaustion', SYNC, 'A process of kalshi/kalshi_account_sync on trading-host:9863 uses 90% of its open-files limit; the threshold is 80%.'),
      ]),
    ],
  },
]);

const ROOT_FS = { ...host(), mountpoint: '/', device: '/dev/vda1', fstype: 'ext4' };
const DATA_FS = { ...host(), mountpoint: '/srv', device: '/dev/vdb1', fstype: 'xfs' };
const FLAT_FS = { ...host(), mountpoint: '/var', device: '/dev/vdc1', fstype: 'ext4' };
const GB100 = 100e9;
file('diskFillingUp', '1m', [
  {
    name: 'a disk at 39% losing 3 GB an hour fires after 1h; one losing as fast at 60%, and one at 30% that does not shrink, do not',
    interval: '1m',
    input_series: [
      series('hostaudit_filesystem_size_bytes', ROOT_FS, `${GB100}x120`),
      series('hostaudit_filesystem_avail_bytes', ROOT_FS, `${39e9}-${0.05e9}x120`),
      series('hostaudit_filesystem_size_bytes', DATA_FS, `${GB100}x120`),
      series('hostaudit_filesystem_avail_bytes', DATA_FS, `${60e9}-${0.05e9}x120`),
      series('hostaudit_filesystem_size_bytes', FLAT_FS, `${GB100}x120`),
      series('hostaudit_filesystem_avail_bytes', FLAT_FS, `${30e9}x120`),
    ],
    alert_rule_test: [
      check('diskFillingUp', '59m', []),
      check('diskFillingUp', '62m', [
        expect(
          'diskFillingUp',
          ROOT_FS,
          '/ (/dev/vda1) on trading-host:9863 is predicted to fill within 24 hours (linear fit over 6h: -33.62GiB in 24 hours) and has less than 40% left.',
        ),
      ]),
    ],
  },
]);

file('diskAlmostFull', '1m', [
  {
    name: 'a disk with 9% left fires after 5m; one with exactly 10% does not',
    interval: '1m',
    input_series: [
      series('hostaudit_filesystem_size_bytes', ROOT_FS, `${GB100}x20`),
      series('hostaudit_filesystem_avail_bytes', ROOT_FS, `${9e9}x20`),
      series('hostaudit_filesystem_size_bytes', DATA_FS, `${GB100}x20`),
      series('hostaudit_filesystem_avail_bytes', DATA_FS, `${10e9}x20`),
    ],
    alert_rule_test: [
      check('diskAlmostFull', '4m', []),
      check('diskAlmostFull', '6m', [
        expect('diskAlmostFull', ROOT_FS, '/ (/dev/vda1) on trading-host:9863 has 9% of its space left; the threshold is 10%.'),
      ]),
    ],
  },
]);

const WEB_TLS = { ...host(), probe: 'web', url: 'https://127.0.0.1:3000/health' };
const API_TLS = { ...host(), probe: 'api', url: 'https://api.example.com/' };
file('certificateExpiring', '1m', [
  {
    name: 'a certificate expiring in 13 days fires after 1h; one expiring in 30 days does not',
    interval: '1m',
    input_series: [
      series('hostaudit_probe_tls_cert_expiry_timestamp_seconds', WEB_TLS, `${13 * 86400}x90`),
      series('hostaudit_probe_tls_cert_expiry_timestamp_seconds', API_TLS, `${30 * 86400}x90`),
    ],
    alert_rule_test: [
      check('certificateExpiring', '59m', []),
      check('certificateExpiring', '61m', [
        expect(
          'certificateExpiring',
          WEB_TLS,
          'The certificate chain of probe web (https://127.0.0.1:3000/health) from trading-host:9863 expires in 12d 22h 59m 0s; the threshold is 14 days.',
        ),
      ]),
    ],
  },
]);
