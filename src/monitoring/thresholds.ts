// The audit's anomaly thresholds, in one place. The alert rules (alerts/), the dashboards'
// threshold lines (dashboards/) and the `audit` report's anomalies are all generated from or
// judged by this module, so a threshold is changed here and nowhere else.
//
// Units: GB is 10^9 bytes and GiB 2^30, as the audit's own figures are decimal.

export type Severity = 'info' | 'warning' | 'critical';

export const GB = 1e9;
export const GiB = 2 ** 30;
export const MiB = 2 ** 20;

export interface Threshold {
  /** The Prometheus alert this threshold drives (docs/monitoring.md "Alerts"; exporterDown is beyond it). */
  alert: string;
  severity: Severity;
  /** How long the condition must hold before the alert fires (Prometheus duration). */
  for: string;
  /** The limit, in the unit of the metric compared (cores, bytes, count, ratio). */
  value: number;
  /** What the value means, for humans: "cores", "bytes", "restarts". */
  unit: 'cores' | 'bytes' | 'restarts' | 'boolean' | 'ratio' | 'seconds';
  summary: string;
  /** The audit finding this encodes (the hand audit: docs/background.md). */
  finding: string;
  /** What to do, from the audit's recommendations; the runbook and the report say it. */
  recommendation: string;
}

export const THRESHOLDS = {
  serviceHighCpu: {
    alert: 'HostAuditServiceHighCPU',
    severity: 'warning',
    for: '15m',
    value: 0.4,
    unit: 'cores',
    summary: 'Service uses more than 40% of a core for 15 minutes',
    finding: 'kalshi_account_sync rose from 27.4% to 45.9% of a core between audits',
    recommendation: 'Monitor for sustained high usage; profile the service if it stays high outside active trading.',
  },
  serviceCpuSaturated: {
    alert: 'HostAuditServiceCPUSaturated',
    severity: 'critical',
    for: '5m',
    value: 0.8,
    unit: 'cores',
    summary: 'Service uses more than 80% of a core',
    finding: 'unified_production_coordinator ran at 86.7% of a core before optimization',
    recommendation: 'Check for a busy loop or a backlog; the coordinator was brought from 86.7% to 21.2% by optimization.',
  },
  serviceDown: {
    alert: 'HostAuditServiceDown',
    severity: 'critical',
    for: '2m',
    value: 1,
    unit: 'boolean',
    summary: 'Service is in FATAL, BACKOFF or EXITED',
    finding: '12/12 services active',
    recommendation: 'Read the service log (supervisorctl tail -f NAME stderr), fix the cause, then supervisorctl start NAME.',
  },
  serviceFlapping: {
    alert: 'HostAuditServiceFlapping',
    severity: 'warning',
    for: '0m',
    value: 3,
    unit: 'restarts',
    summary: 'Service restarted more than 3 times in 15 minutes',
    finding: 'service uptime ~20 minutes average',
    recommendation: 'A crash loop: read the stderr log around each restart and check its dependencies (API, database).',
  },
  supervisorDown: {
    alert: 'HostAuditSupervisorDown',
    severity: 'critical',
    for: '1m',
    value: 0,
    unit: 'boolean',
    summary: 'supervisord does not answer',
    finding: 'all services run under supervisord',
    recommendation: 'Check systemctl status supervisor and its socket permissions; no service state is known while it is down.',
  },
  serviceMemoryHigh: {
    alert: 'HostAuditServiceMemoryHigh',
    severity: 'warning',
    for: '15m',
    value: 1.5 * GiB,
    unit: 'bytes',
    summary: 'All services together use more than 1.5 GiB of resident memory',
    finding: 'memory ~1.2 GB, stable',
    recommendation: 'Find the service that grew (dashboard "Host audit", memory per service) and look for a leak.',
  },
  logsLarge: {
    alert: 'HostAuditLogsLarge',
    severity: 'warning',
    for: '15m',
    value: 1 * GiB,
    unit: 'bytes',
    summary: 'The logs directory is larger than 1 GiB',
    finding: 'logs were 2.5 GB before compression, 479 MB after',
    recommendation: 'Implement log rotation for ongoing management: compress or delete old logs, set stdout_logfile_maxbytes/backups.',
  },
  logsGrowth: {
    alert: 'HostAuditLogsGrowth',
    severity: 'warning',
    for: '1h',
    value: 2.5 * GB,
    unit: 'bytes',
    summary: 'The logs directory is predicted to pass 2.5 GB within 7 days',
    finding: 'logs grew from 463 MB to 479 MB during the optimization',
    recommendation: 'Implement log rotation for ongoing management before the directory reaches its old 2.5 GB.',
  },
  databaseGrowth: {
    alert: 'HostAuditDatabaseGrowth',
    severity: 'info',
    for: '1h',
    value: 2,
    unit: 'ratio',
    summary: 'A database is predicted to double in size within 30 days',
    finding: 'btc_price_history.db grew from 3.8 MB to 4.2 MB',
    recommendation: 'Consider a data archival strategy for the price history.',
  },
  sqliteWalLarge: {
    alert: 'HostAuditSQLiteWALLarge',
    severity: 'warning',
    for: '30m',
    value: 64 * MiB,
    unit: 'bytes',
    summary: 'A SQLite WAL file is larger than 64 MiB',
    finding: 'a WAL that never checkpoints grows without bound',
    recommendation: 'Find the long-lived reader that blocks checkpoints; restart it or run PRAGMA wal_checkpoint(TRUNCATE) from the owning service.',
  },
  databaseUnreadable: {
    alert: 'HostAuditDatabaseUnreadable',
    severity: 'critical',
    for: '5m',
    value: 0,
    unit: 'boolean',
    summary: 'A watched file is not a readable SQLite database',
    finding: 'all 11 databases optimized with indexes',
    recommendation: 'Check the file (sqlite3 FILE "PRAGMA quick_check"); restore it from backup if it is corrupt.',
  },
  webInterfaceDown: {
    alert: 'HostAuditWebInterfaceDown',
    severity: 'critical',
    for: '2m',
    value: 0,
    unit: 'boolean',
    summary: 'A health probe fails',
    finding: 'web interface responding on port 3000',
    recommendation: 'Check the main_app service and its log; curl the probe URL from the host.',
  },
  criticalFileMissing: {
    alert: 'HostAuditCriticalFileMissing',
    severity: 'critical',
    for: '1m',
    value: 0,
    unit: 'boolean',
    summary: 'A critical config file is missing or unreadable',
    finding: 'all config files intact',
    recommendation: 'Restore the file from version control or backup; check its permissions.',
  },
  systemSizeRegression: {
    alert: 'HostAuditSystemSizeRegression',
    severity: 'warning',
    for: '1h',
    value: 3.8 * GB,
    unit: 'bytes',
    summary: 'The system directory is back above its pre-optimization 3.8 GB',
    finding: 'total system 3.8 GB before optimization, 2.1 GB after',
    recommendation: 'Find what grew (hostaudit_path_bytes by path); usually logs, then data.',
  },
  collectorFailing: {
    alert: 'HostAuditCollectorFailing',
    severity: 'warning',
    for: '10m',
    value: 0,
    unit: 'boolean',
    summary: 'An exporter collector keeps failing',
    finding: 'the audit is only as good as its measurements',
    recommendation: "Read the exporter's log for the collector's error (permissions, a missing socket, a timeout).",
  },
  // Beyond the contract's alert table (docs/monitoring.md): Prometheus's own view of the exporter (`up`), which the one-shot
  // `audit` report cannot judge. Its scrape job is matched by EXPORTER_JOB_SELECTOR below.
  exporterDown: {
    alert: 'HostAuditExporterDown',
    severity: 'critical',
    for: '5m',
    value: 0,
    unit: 'boolean',
    summary: 'Prometheus cannot scrape the exporter',
    finding: 'the audit is only as good as its measurements: an exporter nobody scrapes makes every HostAudit alert blind',
    recommendation:
      "Check that the exporter runs and answers (curl http://HOST:9863/-/healthy), then Prometheus's target page for the scrape error (connection refused, timeout, TLS or auth).",
  },
  // Fleet (docs/fleet.md): at the central store a host's agent that is gone sends
  // nothing, not `up == 0`; value is the silence (seconds) the alert needs, for the rule and docs.
  hostSilent: {
    alert: 'HostAuditHostSilent',
    severity: 'critical',
    for: '0m',
    value: 600,
    unit: 'seconds',
    summary: 'A host that reported in the last 24 hours has sent nothing for 10 minutes',
    finding: 'the audit watched one host by hand; a fleet host whose agent or network is gone makes every HostAudit alert for it blind',
    recommendation:
      "Check the host is up and its Prometheus agent runs (systemctl status prometheus; curl http://HOST:9090/-/ready), then the agent's remote-write errors (prometheus_remote_storage_samples_failed_total) and the network path to the central store.",
  },
  // 0.2: the quiet failures (docs/monitoring.md "Alerts"). The stale-feed thresholds
  // are per database and per service, from the config (expect_write_within,
  // expect_log_write_within), exported beside the figures; `value` 0 says so.
  databaseStale: {
    alert: 'HostAuditDatabaseStale',
    severity: 'warning',
    for: '0m',
    value: 0,
    unit: 'seconds',
    summary: 'A database has not been written within its expect_write_within',
    finding: 'a price feed can be RUNNING and have stopped writing its database',
    recommendation: 'Read the writing service’s log and check its upstream feed; restart it if it is stuck.',
  },
  serviceSilent: {
    alert: 'HostAuditServiceSilent',
    severity: 'warning',
    for: '0m',
    value: 0,
    unit: 'seconds',
    summary: 'A running service has not written its log within its expect_log_write_within',
    finding: 'a RUNNING service can hang without exiting: supervisor sees nothing wrong',
    recommendation: 'Look at what the process is doing (py-spy dump, strace -p) and restart it if it is stuck.',
  },
  deletedFilesHeld: {
    alert: 'HostAuditDeletedFilesHeld',
    severity: 'warning',
    for: '15m',
    value: 100 * MiB,
    unit: 'bytes',
    summary: 'A service holds more than 100 MiB of deleted files open',
    finding: 'logs compressed while the service still held them: du and df disagreed by 1.5 GB',
    recommendation: 'Restart the service (or have it reopen its logs) so the kernel can free the space; rotate with copytruncate or supervisor’s own rotation.',
  },
  serviceLogUnrotated: {
    alert: 'HostAuditServiceLogUnrotated',
    severity: 'warning',
    for: '15m',
    value: 256 * MiB,
    unit: 'bytes',
    summary: 'A service log that supervisor never rotates is above 256 MiB',
    finding: 'logs grew to 2.5 GB before they were compressed by hand',
    recommendation: 'Set stdout_logfile_maxbytes and stdout_logfile_backups (and stderr_*) for the program, then supervisorctl update.',
  },
  serviceFdExhaustion: {
    alert: 'HostAuditServiceFdExhaustion',
    severity: 'warning',
    for: '5m',
    value: 0.8,
    unit: 'ratio',
    summary: 'A process of a service uses more than 80% of its open-files limit',
    finding: 'a service that runs out of file descriptors fails on its next connection or file',
    recommendation: 'Look for a descriptor leak (ls -l /proc/PID/fd); raise minfds or the program’s ulimit -n if the use is real.',
  },
  diskFillingUp: {
    alert: 'HostAuditDiskFillingUp',
    severity: 'warning',
    for: '1h',
    value: 0.4,
    unit: 'ratio',
    summary: 'A filesystem is predicted to fill within 24 hours',
    finding: 'logs once grew to 2.5 GB; a full disk stops every database write',
    recommendation: 'Find what grows (hostaudit_path_bytes, du -x) and rotate, archive or delete before it fills.',
  },
  diskAlmostFull: {
    alert: 'HostAuditDiskAlmostFull',
    severity: 'critical',
    for: '5m',
    value: 0.1,
    unit: 'ratio',
    summary: 'A filesystem has less than 10% of its space left',
    finding: 'a full disk stops every database write',
    recommendation: 'Free space now: old logs first, then deleted files still held open (hostaudit_service_deleted_open_bytes).',
  },
  certificateExpiring: {
    alert: 'HostAuditCertificateExpiring',
    severity: 'warning',
    for: '1h',
    value: 14 * 24 * 3600,
    unit: 'seconds',
    summary: 'A probed HTTPS certificate expires within 14 days',
    finding: 'web interface responding on port 3000',
    recommendation: 'Renew the certificate and reload the server that presents it.',
  },
} as const satisfies Record<string, Threshold>;

export type ThresholdKey = keyof typeof THRESHOLDS;

/** Windows the growth predictions use (docs/metrics.md). */
export const GROWTH = {
  logsLookback: '6h',
  logsHorizonSeconds: 7 * 24 * 3600,
  databaseLookback: '6h',
  databaseHorizonSeconds: 30 * 24 * 3600,
  flappingWindow: '15m',
  diskLookback: '6h',
  diskHorizonSeconds: 24 * 3600,
} as const;

/**
 * The label matcher that picks the exporter's scrape job out of `up`, for HostAuditExporterDown.
 * The job name is the user's choice; the project ships `job_name: hostaudit`
 * (prometheus/prometheus.yml). For another name, or several jobs (`job=~"hostaudit|hostaudit-dr"`),
 * change it here and run `npm run generate`.
 */
export const EXPORTER_JOB_SELECTOR = 'job="hostaudit"';

/** Path names the path alerts watch (the `name` of a `paths` entry). */
export const PATH_NAMES = { logs: 'logs', data: 'data', system: 'system' } as const;

/** How far back HostAuditHostSilent looks for a host that reported at all (docs/fleet.md: 24 h). */
export const HOST_SILENT_LOOKBACK = '24h';

/** A complete set of thresholds: the built-in ones above, or those with a config's overrides applied. */
export type ThresholdSet = { readonly [K in ThresholdKey]: Threshold };
