// The Prometheus alert rules (docs/monitoring.md "Alerts"), built from the thresholds module so a
// threshold lives in one place. `npm run generate` writes them to alerts/hostaudit.rules.yml.
//
// Every alert's labels are exactly those of the contract's alert table (docs/monitoring.md): each expression aggregates
// `by (...)` the identifying labels of the series it ranges over (job and instance always),
// so labels such as `mode`, `state` or `within` never leak into an alert, and the rule adds
// only `severity`.
//
// One alert goes beyond the contract's alert table (docs/monitoring.md): HostAuditExporterDown (labels job, instance), on
// Prometheus's `up` for the exporter's scrape job (EXPORTER_JOB_SELECTOR in thresholds.ts).
import {
  EXPORTER_JOB_SELECTOR,
  GB,
  HOST_SILENT_LOOKBACK,
  GROWTH,
  GiB,
  MiB,
  PATH_NAMES,
  THRESHOLDS,
  type Severity,
  type ThresholdKey,
  type ThresholdSet,
} from './thresholds.js';

/**
 * Where the runbooks live by default: the exporter's own /runbooks page (docs/runbooks.md as
 * shipped with the program), at the address Prometheus scrapes it, so the link resolves on any
 * host without a public copy of the docs. `thresholds.runbook_url` points them elsewhere (a
 * fleet that relabels `instance` to the host name, a wiki, the exporter behind TLS).
 */
export const RUNBOOK_INSTANCE = '{{ $labels.instance }}';
export const RUNBOOK_BASE_URL = `http://${RUNBOOK_INSTANCE}/runbooks`;

/** The docs/runbooks.md anchor of an alert's runbook (GitHub's slug of the heading `### ALERT`). */
export function runbookAnchor(alert: string): string {
  return alert.toLowerCase();
}

export function runbookUrl(alert: string): string {
  return `${RUNBOOK_BASE_URL}#${runbookAnchor(alert)}`;
}

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: Severity };
  annotations: { summary: string; description: string; runbook_url: string };
}

export interface AlertDefinition {
  key: ThresholdKey;
  /** The labels the alert carries besides `severity` (the "labels" column of docs/monitoring.md's alert table). */
  labels: readonly string[];
  expr: string;
  description: string;
}

/** A number as Prometheus reads it: integers written out in full, no exponent. */
function num(n: number): string {
  if (Number.isInteger(n)) return n.toFixed(0);
  return String(n);
}

function percent(ratio: number): string {
  return `${num(Math.round(ratio * 1000) / 10)}%`;
}

/** Bytes as the audit writes them: GiB/MiB for binary thresholds, GB for decimal ones. */
export function formatBytes(n: number): string {
  if (n % GiB === 0 || (n * 2) % GiB === 0) return `${num(n / GiB)} GiB`;
  if (n % MiB === 0 && n < GiB) return `${num(n / MiB)} MiB`;
  return `${num(n / GB)} GB`;
}

function by(labels: readonly string[]): string {
  return `by (${labels.join(', ')})`;
}

const SERVICE = ['job', 'instance', 'group', 'name'] as const;
const PATH = ['job', 'instance', 'name', 'path'] as const;
const DATABASE = ['job', 'instance', 'database', 'path'] as const;
const DATABASE_FILE = ['job', 'instance', 'database', 'path', 'file'] as const;

const svc = '{{ $labels.group }}/{{ $labels.name }} on {{ $labels.instance }}';

// 0.2: the quiet failures.
const FILESYSTEM = ['job', 'instance', 'mountpoint', 'device', 'fstype'] as const;
const STREAM = [...SERVICE, 'stream'] as const;
const PROBE = ['job', 'instance', 'probe', 'url'] as const;
const on = (labels: readonly string[]): string => `on (${labels.join(', ')})`;
const fs = '{{ $labels.mountpoint }} ({{ $labels.device }}) on {{ $labels.instance }}';

/** Appended to the definitions, with the same thresholds T. */
const quietFailureAlerts = (T: ThresholdSet): AlertDefinition[] => [
  {
    // The threshold is each database's own, exported beside it; one-to-one on the same labels.
    key: 'databaseStale',
    labels: DATABASE,
    expr:
      `max ${by(DATABASE)} (time() - hostaudit_sqlite_last_write_timestamp_seconds) ` +
      `> ${on(DATABASE)} max ${by(DATABASE)} (hostaudit_sqlite_expected_write_within_seconds)`,
    description:
      `{{ $labels.database }} ({{ $labels.path }}) on {{ $labels.instance }} was last written {{ $value | humanizeDuration }} ago, ` +
      `longer than its expect_write_within.`,
  },
  {
    // The newest write of either stream; only while the service is RUNNING.
    key: 'serviceSilent',
    labels: SERVICE,
    expr:
      `max ${by(SERVICE)} (time() - hostaudit_service_log_last_write_timestamp_seconds) ` +
      `> ${on(SERVICE)} max ${by(SERVICE)} (hostaudit_service_expected_log_write_within_seconds) ` +
      `and ${on(SERVICE)} max ${by(SERVICE)} (hostaudit_service_up) == 1`,
    description:
      `${svc} is RUNNING but last wrote its log {{ $value | humanizeDuration }} ago, longer than its expect_log_write_within.`,
  },
  {
    key: 'deletedFilesHeld',
    labels: SERVICE,
    expr: `max ${by(SERVICE)} (hostaudit_service_deleted_open_bytes) > ${num(T.deletedFilesHeld.value)}`,
    description:
      `${svc} holds {{ $value | humanize1024 }}B of deleted files open: disk that is not freed until it closes them; ` +
      `the threshold is ${formatBytes(T.deletedFilesHeld.value)}.`,
  },
  {
    key: 'serviceLogUnrotated',
    labels: STREAM,
    expr:
      `max ${by(STREAM)} (hostaudit_service_log_bytes) > ${num(T.serviceLogUnrotated.value)} ` +
      `and ${on(STREAM)} max ${by(STREAM)} (hostaudit_service_log_rotation_max_bytes) == 0`,
    description:
      `The {{ $labels.stream }} log of ${svc} is {{ $value | humanize1024 }}B and supervisor never rotates it ` +
      `({{ $labels.stream }}_logfile_maxbytes = 0); the threshold is ${formatBytes(T.serviceLogUnrotated.value)}.`,
  },
  {
    key: 'serviceFdExhaustion',
    labels: SERVICE,
    expr: `max ${by(SERVICE)} (hostaudit_service_fd_usage_ratio) > ${num(T.serviceFdExhaustion.value)}`,
    description:
      `A process of ${svc} uses {{ $value | humanizePercentage }} of its open-files limit; ` +
      `the threshold is ${percent(T.serviceFdExhaustion.value)}.`,
  },
  {
    key: 'diskFillingUp',
    labels: FILESYSTEM,
    expr:
      `max ${by(FILESYSTEM)} (predict_linear(hostaudit_filesystem_avail_bytes[${GROWTH.diskLookback}], ${num(GROWTH.diskHorizonSeconds)})) < 0 ` +
      `and ${on(FILESYSTEM)} max ${by(FILESYSTEM)} (hostaudit_filesystem_avail_bytes / hostaudit_filesystem_size_bytes) < ${num(T.diskFillingUp.value)}`,
    description:
      `${fs} is predicted to fill within 24 hours (linear fit over ${GROWTH.diskLookback}: {{ $value | humanize1024 }}B in 24 hours) ` +
      `and has less than ${percent(T.diskFillingUp.value)} left.`,
  },
  {
    key: 'diskAlmostFull',
    labels: FILESYSTEM,
    expr: `max ${by(FILESYSTEM)} (hostaudit_filesystem_avail_bytes / hostaudit_filesystem_size_bytes) < ${num(T.diskAlmostFull.value)}`,
    description: `${fs} has {{ $value | humanizePercentage }} of its space left; the threshold is ${percent(T.diskAlmostFull.value)}.`,
  },
  {
    key: 'certificateExpiring',
    labels: PROBE,
    expr: `min ${by(PROBE)} (hostaudit_probe_tls_cert_expiry_timestamp_seconds - time()) < ${num(T.certificateExpiring.value)}`,
    description:
      `The certificate chain of probe {{ $labels.probe }} ({{ $labels.url }}) from {{ $labels.instance }} expires in ` +
      `{{ $value | humanizeDuration }}; the threshold is 14 days.`,
  },
];

/** The definitions with the thresholds T (the built-in ones, or a config's: see tuning.ts). */
export const alertDefinitions = (T: ThresholdSet = THRESHOLDS): AlertDefinition[] => [
  {
    key: 'serviceHighCpu',
    labels: SERVICE,
    expr: `sum ${by(SERVICE)} (rate(hostaudit_service_cpu_seconds_total[5m])) > ${num(T.serviceHighCpu.value)}`,
    description:
      `${svc} has used {{ $value | humanizePercentage }} of a core (user+system, its whole process tree) ` +
      `for more than ${T.serviceHighCpu.for}; the threshold is ${percent(T.serviceHighCpu.value)}.`,
  },
  {
    key: 'serviceCpuSaturated',
    labels: SERVICE,
    expr: `sum ${by(SERVICE)} (rate(hostaudit_service_cpu_seconds_total[5m])) > ${num(T.serviceCpuSaturated.value)}`,
    description:
      `${svc} uses {{ $value | humanizePercentage }} of a core (user+system, its whole process tree); ` +
      `the threshold is ${percent(T.serviceCpuSaturated.value)}.`,
  },
  {
    key: 'serviceDown',
    labels: [...SERVICE, 'state'],
    expr: `max ${by([...SERVICE, 'state'])} (hostaudit_service_state{state=~"FATAL|BACKOFF|EXITED"}) == 1`,
    description: `${svc} has been in state {{ $labels.state }} for more than ${T.serviceDown.for}.`,
  },
  {
    // increase() extrapolates to the window's edges, so 3 restarts read as 3.2 at a 1m
    // scrape interval and would fire an alert meant for "more than 3". Restarts are whole
    // numbers: floor() drops the extrapolation's fraction and leaves the count.
    key: 'serviceFlapping',
    labels: SERVICE,
    expr: `floor(sum ${by(SERVICE)} (increase(hostaudit_service_restarts_total[${GROWTH.flappingWindow}]))) > ${num(T.serviceFlapping.value)}`,
    description:
      `${svc} restarted {{ $value }} times in the last ${GROWTH.flappingWindow} ` +
      `(more than ${num(T.serviceFlapping.value)} is a crash loop).`,
  },
  {
    key: 'supervisorDown',
    labels: ['job', 'instance'],
    expr: `min by (job, instance) (hostaudit_supervisor_up) == ${num(T.supervisorDown.value)}`,
    description:
      `supervisord on {{ $labels.instance }} has not answered the exporter for ${T.supervisorDown.for} ` +
      `(hostaudit_supervisor_up = {{ $value }}); no service state is known.`,
  },
  {
    key: 'serviceMemoryHigh',
    labels: ['job', 'instance'],
    expr: `sum by (job, instance) (hostaudit_service_resident_memory_bytes) > ${num(T.serviceMemoryHigh.value)}`,
    description:
      `The services on {{ $labels.instance }} use {{ $value | humanize1024 }}B of resident memory together; ` +
      `the threshold is ${formatBytes(T.serviceMemoryHigh.value)} (the audit measured ~1.2 GB).`,
  },
  {
    key: 'logsLarge',
    labels: PATH,
    expr: `max ${by(PATH)} (hostaudit_path_bytes{name="${PATH_NAMES.logs}"}) > ${num(T.logsLarge.value)}`,
    description:
      `{{ $labels.path }} on {{ $labels.instance }} holds {{ $value | humanize1024 }}B; ` +
      `the threshold is ${formatBytes(T.logsLarge.value)}.`,
  },
  {
    key: 'logsGrowth',
    labels: PATH,
    expr:
      `max ${by(PATH)} (predict_linear(hostaudit_path_bytes{name="${PATH_NAMES.logs}"}[${GROWTH.logsLookback}], ` +
      `${num(GROWTH.logsHorizonSeconds)})) > ${num(T.logsGrowth.value)}`,
    description:
      `{{ $labels.path }} on {{ $labels.instance }} is predicted to hold {{ $value | humanize }}B within 7 days ` +
      `(linear fit over ${GROWTH.logsLookback}); the threshold is ${formatBytes(T.logsGrowth.value)}.`,
  },
  {
    key: 'databaseGrowth',
    labels: DATABASE_FILE,
    expr:
      `max ${by(DATABASE_FILE)} (predict_linear(hostaudit_sqlite_bytes{file="main"}[${GROWTH.databaseLookback}], ` +
      `${num(GROWTH.databaseHorizonSeconds)})) > ${num(T.databaseGrowth.value)} * max ${by(DATABASE_FILE)} (hostaudit_sqlite_bytes{file="main"})`,
    description:
      `{{ $labels.database }} ({{ $labels.path }}) on {{ $labels.instance }} is predicted to reach ` +
      `{{ $value | humanize1024 }}B within 30 days (linear fit over ${GROWTH.databaseLookback}), ` +
      `more than ${num(T.databaseGrowth.value)} times its current size.`,
  },
  {
    key: 'sqliteWalLarge',
    labels: DATABASE_FILE,
    expr: `max ${by(DATABASE_FILE)} (hostaudit_sqlite_bytes{file="wal"}) > ${num(T.sqliteWalLarge.value)}`,
    description:
      `The WAL of {{ $labels.database }} ({{ $labels.path }}) on {{ $labels.instance }} is ` +
      `{{ $value | humanize1024 }}B; the threshold is ${formatBytes(T.sqliteWalLarge.value)}.`,
  },
  {
    key: 'databaseUnreadable',
    labels: DATABASE,
    expr: `min ${by(DATABASE)} (hostaudit_sqlite_ok) == ${num(T.databaseUnreadable.value)}`,
    description:
      `{{ $labels.path }} on {{ $labels.instance }} has not been a readable SQLite database for ` +
      `${T.databaseUnreadable.for} (hostaudit_sqlite_ok = {{ $value }}).`,
  },
  {
    key: 'webInterfaceDown',
    labels: ['job', 'instance', 'probe', 'url'],
    expr: `min by (job, instance, probe, url) (hostaudit_probe_success) == ${num(T.webInterfaceDown.value)}`,
    description:
      `Probe {{ $labels.probe }} ({{ $labels.url }}) from {{ $labels.instance }} has failed for ` +
      `${T.webInterfaceDown.for} (hostaudit_probe_success = {{ $value }}).`,
  },
  {
    key: 'criticalFileMissing',
    labels: ['job', 'instance', 'path'],
    expr: `min by (job, instance, path) (hostaudit_file_present) == ${num(T.criticalFileMissing.value)}`,
    description:
      `{{ $labels.path }} on {{ $labels.instance }} has been missing or unreadable for ` +
      `${T.criticalFileMissing.for} (hostaudit_file_present = {{ $value }}).`,
  },
  {
    key: 'systemSizeRegression',
    labels: PATH,
    expr: `max ${by(PATH)} (hostaudit_path_bytes{name="${PATH_NAMES.system}"}) > ${num(T.systemSizeRegression.value)}`,
    description:
      `{{ $labels.path }} on {{ $labels.instance }} holds {{ $value | humanize }}B; ` +
      `the threshold is ${formatBytes(T.systemSizeRegression.value)} (3.8 GB before optimization, 2.1 GB after).`,
  },
  {
    key: 'collectorFailing',
    labels: ['job', 'instance', 'collector'],
    expr: `min by (job, instance, collector) (hostaudit_collector_success) == ${num(T.collectorFailing.value)}`,
    description:
      `The {{ $labels.collector }} collector of the exporter on {{ $labels.instance }} has failed for ` +
      `${T.collectorFailing.for} (hostaudit_collector_success = {{ $value }}).`,
  },
  {
    // Beyond the original alert table. `up` carries whatever target labels service discovery and relabelling
    // add (env, region, ...): aggregating keeps exactly job and instance. A target that vanished
    // from service discovery has no `up` at all, so this alert cannot see it; absent() is left
    // out on purpose (docs/runbooks.md, HostAuditExporterDown).
    key: 'exporterDown',
    labels: ['job', 'instance'],
    expr: `min by (job, instance) (up{${EXPORTER_JOB_SELECTOR}}) == ${num(T.exporterDown.value)}`,
    description:
      `Prometheus has failed to scrape the exporter at {{ $labels.instance }} (job {{ $labels.job }}) for ` +
      `${T.exporterDown.for} (up = {{ $value }}); no other HostAudit alert can fire for this target.`,
  },
  {
    // Fleet: the central store's view of a host. `up` is written by the host's own agent, so a
    // gone agent leaves no `up == 0`, only silence: hosts with samples over the lookback, unless
    // they have any in the last 10m. Exactly `instance`: the host, whatever job scraped it.
    key: 'hostSilent',
    labels: ['instance'],
    expr:
      `sum by (instance) (count_over_time(up{${EXPORTER_JOB_SELECTOR}}[${HOST_SILENT_LOOKBACK}])) ` +
      `unless on (instance) count by (instance) (count_over_time(up{${EXPORTER_JOB_SELECTOR}}[${num(T.hostSilent.value / 60)}m]))`,
    description:
      `{{ $labels.instance }} has sent no samples to the central store for ${num(T.hostSilent.value / 60)}m ` +
      `({{ $value }} scrapes arrived from it over the last ${HOST_SILENT_LOOKBACK}): its agent, its network or the whole host is gone.`,
  },
  ...quietFailureAlerts(T),
];

export const ALERT_DEFINITIONS: readonly AlertDefinition[] = alertDefinitions();

export function alertRule(def: AlertDefinition, T: ThresholdSet = THRESHOLDS, runbook: (alert: string) => string = runbookUrl): AlertRule {
  const t = T[def.key];
  return {
    alert: t.alert,
    expr: def.expr,
    for: t.for,
    labels: { severity: t.severity },
    annotations: { summary: t.summary, description: def.description, runbook_url: runbook(t.alert) },
  };
}

export interface RuleFile {
  groups: Array<{ name: string; rules: AlertRule[] }>;
}

export function ruleFile(): RuleFile {
  return { groups: [{ name: 'hostaudit', rules: ALERT_DEFINITIONS.map((d) => alertRule(d)) }] };
}
