// "Host audit": the hand audit (docs/background.md) on one screen, continuously: storage, services, health
// and the firing HostAudit alerts. Threshold lines come from the thresholds module.
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { formatBytes } from '../alert-rules.js';
import { GROWTH, PATH_NAMES, THRESHOLDS, type ThresholdSet } from '../thresholds.js';
import {
  HOST,
  booleanMapping,
  datasourceVariable,
  hostVariables,
  instantTable,
  numberPanels,
  query,
  sel,
  serviceStateCodeExpr,
  stateMappings,
  statPanel,
  statetimelinePanel,
  tablePanel,
  timeseriesPanel,
  type AnyPanelBuilder,
  type Line,
} from './common.js';

import { silentFailuresPanels } from './silent-failures.js';

export const HOST_AUDIT_UID = 'hostaudit-host-audit';
export const SERVICE_DETAIL_UID = 'hostaudit-service-detail';

const warn = (value: number): Line => ({ value, color: 'orange' });
const crit = (value: number): Line => ({ value, color: 'red' });

const logs = `name="${PATH_NAMES.logs}"`;

const storage = (T: ThresholdSet): AnyPanelBuilder[] => [
  statPanel({
    title: 'Logs directory',
    description: `du -sb of the logs directory. Warning above ${formatBytes(T.logsLarge.value)} (HostAuditLogsLarge); the audit found 2.5 GB before compression, 479 MB after.`,
    unit: 'bytes',
    targets: [query(`hostaudit_path_bytes${sel(logs)}`, '{{path}}')],
    lines: [warn(T.logsLarge.value)],
  }),
  statPanel({
    title: 'Data directory',
    description: 'du -sb of the data directory (the audit: 349 MB → 404 MB, normal growth).',
    unit: 'bytes',
    targets: [query(`hostaudit_path_bytes${sel(`name="${PATH_NAMES.data}"`)}`, '{{path}}')],
  }),
  statPanel({
    title: 'System directory',
    description: 'du -sb of the whole system directory; warning above its pre-optimization size (HostAuditSystemSizeRegression).',
    unit: 'bytes',
    targets: [query(`hostaudit_path_bytes${sel(`name="${PATH_NAMES.system}"`)}`, '{{path}}')],
    lines: [warn(T.systemSizeRegression.value)],
  }),
  statPanel({
    title: 'SQLite databases',
    description: 'Main files of every watched SQLite database, summed (the audit: 6.5 MB).',
    unit: 'bytes',
    targets: [query(`sum(hostaudit_sqlite_bytes${sel('file="main"')})`, 'databases')],
  }),
  timeseriesPanel({
    title: 'Logs directory and its 7-day prediction',
    description:
      'The logs directory and where a linear fit over the last 6h puts it in 7 days. Dashed lines: HostAuditLogsLarge (now) and HostAuditLogsGrowth (predicted).',
    unit: 'bytes',
    targets: [
      query(`hostaudit_path_bytes${sel(logs)}`, '{{path}}', 'A'),
      query(
        `predict_linear(hostaudit_path_bytes${sel(logs)}[${GROWTH.logsLookback}], ${GROWTH.logsHorizonSeconds})`,
        '{{path}} in 7 days',
        'B',
      ),
    ],
    lines: [warn(T.logsLarge.value), crit(T.logsGrowth.value)],
  }),
  timeseriesPanel({
    title: 'Watched directories',
    description: 'Every watched directory (du -sb). Dashed line: HostAuditSystemSizeRegression for the system directory.',
    unit: 'bytes',
    targets: [query(`hostaudit_path_bytes${sel()}`, '{{name}} ({{path}})')],
    lines: [warn(T.systemSizeRegression.value)],
  }),
  timeseriesPanel({
    title: 'Directory growth per day',
    description: 'Bytes per day each directory grows, from a linear fit over the last hour.',
    unit: 'bytes',
    targets: [query(`deriv(hostaudit_path_bytes${sel()}[1h]) * 86400`, '{{name}}')],
  }),
  timeseriesPanel({
    title: 'Files modified recently',
    description: 'Regular files modified within each configured window (the audit: 14 log files in 10 min, 22 in 1 h).',
    unit: 'short',
    targets: [query(`hostaudit_path_files_modified${sel()}`, '{{name}} within {{within}}')],
  }),
  timeseriesPanel({
    title: 'SQLite main files',
    description: 'Size of each database file (the audit: btc_price_history.db growing 3.8 → 4.2 MB).',
    unit: 'bytes',
    targets: [query(`hostaudit_sqlite_bytes${sel('file="main"')}`, '{{database}}')],
  }),
  timeseriesPanel({
    title: 'SQLite WAL files',
    description: 'Write-ahead logs; one that keeps growing is never checkpointed. Dashed line: HostAuditSQLiteWALLarge.',
    unit: 'bytes',
    targets: [query(`hostaudit_sqlite_bytes${sel('file="wal"')}`, '{{database}}')],
    lines: [warn(T.sqliteWalLarge.value)],
  }),
  timeseriesPanel({
    title: 'SQLite size predicted in 30 days, relative to now',
    description: `A linear fit over ${GROWTH.databaseLookback}, 30 days ahead, divided by the current size. Dashed line: HostAuditDatabaseGrowth (doubling).`,
    unit: 'percentunit',
    targets: [
      query(
        `predict_linear(hostaudit_sqlite_bytes${sel('file="main"')}[${GROWTH.databaseLookback}], ${GROWTH.databaseHorizonSeconds})\n  / hostaudit_sqlite_bytes${sel('file="main"')}`,
        '{{database}}',
      ),
    ],
    lines: [{ value: T.databaseGrowth.value, color: 'blue' }],
  }),
  tablePanel({
    title: 'SQLite databases readable',
    description: 'hostaudit_sqlite_ok: 1 when the file is a readable SQLite database (HostAuditDatabaseUnreadable).',
    unit: 'none',
    targets: [instantTable(`hostaudit_sqlite_ok${sel()}`)],
    mappings: booleanMapping('readable', 'UNREADABLE'),
  }),
];

const services = (T: ThresholdSet): AnyPanelBuilder[] => [
  statetimelinePanel({
    title: 'Service state',
    description: 'supervisord state of every service (the audit: 12/12 RUNNING). FATAL, BACKOFF or EXITED for 2m fires HostAuditServiceDown.',
    unit: 'none',
    targets: [query(serviceStateCodeExpr(HOST), '{{name}}')],
    mappings: stateMappings(),
  }),
  timeseriesPanel({
    title: 'CPU per service (share of one core)',
    description:
      'User+system CPU of each service\'s process tree; 100% is one full core. Dashed lines: HostAuditServiceHighCPU (40%, 15m) and HostAuditServiceCPUSaturated (80%, 5m). The audit: kalshi_account_sync 45.9%, the coordinator 21.2%.',
    unit: 'percentunit',
    targets: [query(`sum by (group, name) (rate(hostaudit_service_cpu_seconds_total${sel()}[$__rate_interval]))`, '{{name}}')],
    lines: [warn(T.serviceHighCpu.value), crit(T.serviceCpuSaturated.value)],
    min: 0,
  }),
  timeseriesPanel({
    title: 'Resident memory per service (stacked)',
    description: 'RSS of each service\'s process tree, stacked: the top is the total that HostAuditServiceMemoryHigh watches (dashed line). The audit: ~1.2 GB.',
    unit: 'bytes',
    targets: [query(`hostaudit_service_resident_memory_bytes${sel()}`, '{{name}}')],
    lines: [warn(T.serviceMemoryHigh.value)],
    stack: true,
  }),
  timeseriesPanel({
    title: `Restarts in the last ${GROWTH.flappingWindow}`,
    description: `Restarts counted by the exporter over the flapping alert's ${GROWTH.flappingWindow} window. Dashed line: HostAuditServiceFlapping (more than ${T.serviceFlapping.value}).`,
    unit: 'short',
    targets: [
      query(`sum by (group, name) (increase(hostaudit_service_restarts_total${sel()}[${GROWTH.flappingWindow}]))`, '{{name}}'),
    ],
    lines: [warn(T.serviceFlapping.value)],
    min: 0,
  }),
  timeseriesPanel({
    title: 'TCP connections per service',
    description: 'TCP sockets held by each service\'s process tree.',
    unit: 'short',
    targets: [query(`hostaudit_service_tcp_connections${sel()}`, '{{name}}')],
  }),
  timeseriesPanel({
    title: 'Log bytes per service',
    description: 'Each service\'s log files plus their rotated backups.',
    unit: 'bytes',
    targets: [query(`sum by (group, name) (hostaudit_service_log_bytes${sel()})`, '{{name}}')],
  }),
];

const health = (T: ThresholdSet): AnyPanelBuilder[] => [
  statPanel({
    title: 'supervisord',
    description: 'hostaudit_supervisor_up: whether supervisord answered the last scrape (HostAuditSupervisorDown).',
    unit: 'none',
    targets: [query(`hostaudit_supervisor_up${sel()}`, 'supervisord')],
    mappings: booleanMapping('UP', 'DOWN'),
    colorMode: common.BigValueColorMode.Background,
    width: 4,
  }),
  statPanel({
    title: 'Health probes',
    description: 'HTTP health checks, e.g. the web interface on port 3000 (HostAuditWebInterfaceDown).',
    unit: 'none',
    targets: [query(`hostaudit_probe_success${sel()}`, '{{probe}}')],
    mappings: booleanMapping('UP', 'DOWN'),
    colorMode: common.BigValueColorMode.Background,
    width: 4,
  }),
  statPanel({
    title: 'TCP connections',
    description: 'Host-wide TCP sockets, all states (the audit: 91 connections).',
    unit: 'short',
    targets: [query(`sum(hostaudit_host_tcp_connections${sel()})`, 'connections')],
    width: 4,
  }),
  statPanel({
    title: 'Processes by name',
    description: 'Host processes whose name matches process_names (the audit: 16 python processes).',
    unit: 'short',
    targets: [query(`hostaudit_host_processes${sel()}`, '{{name}}')],
    width: 4,
  }),
  tablePanel({
    title: 'Critical files',
    description: 'hostaudit_file_present: 1 when the file exists and is readable (HostAuditCriticalFileMissing).',
    unit: 'none',
    targets: [instantTable(`hostaudit_file_present${sel()}`)],
    mappings: booleanMapping('present', 'MISSING'),
    width: 8,
    height: 4,
  }),
  timeseriesPanel({
    title: 'Health probe duration',
    description: 'Time each probe took to answer.',
    unit: 's',
    targets: [query(`hostaudit_probe_duration_seconds${sel()}`, '{{probe}}')],
    width: 8,
  }),
  timeseriesPanel({
    title: 'Host TCP connections by state',
    description: 'Host-wide TCP sockets by state.',
    unit: 'short',
    targets: [query(`hostaudit_host_tcp_connections${sel()}`, '{{state}}')],
    stack: true,
    width: 8,
  }),
  timeseriesPanel({
    title: 'Host memory',
    description: 'Total, available and used memory of the host.',
    unit: 'bytes',
    targets: [query(`hostaudit_host_memory_bytes${sel()}`, '{{kind}}')],
    width: 8,
  }),
  tablePanel({
    title: 'Exporter collectors',
    description: 'hostaudit_collector_success per collector (HostAuditCollectorFailing).',
    unit: 'none',
    targets: [instantTable(`hostaudit_collector_success${sel()}`)],
    mappings: booleanMapping('ok', 'FAILING'),
    width: 8,
  }),
];

const alerts = (T: ThresholdSet): AnyPanelBuilder[] => [
  tablePanel({
    title: 'Firing alerts',
    description: 'HostAudit alerts firing now for this host; each has a runbook in docs/runbooks.md.',
    unit: 'none',
    targets: [instantTable(`ALERTS{alertname=~"HostAudit.*", alertstate="firing", ${HOST}}`)],
    width: 24,
  }),
];

export function hostAuditDashboard(T: ThresholdSet = THRESHOLDS): dashboard.Dashboard {
  const b = new dashboard.DashboardBuilder('Host audit')
    .uid(HOST_AUDIT_UID)
    .description('The host audit on one screen: storage, services, health and firing alerts (hostaudit-exporter).')
    .tags(['hostaudit'])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: 'now-6h', to: 'now' })
    .refresh('1m')
    .withVariable(datasourceVariable());
  for (const v of hostVariables()) b.withVariable(v);
  b.link(
    new dashboard.DashboardLinkBuilder('Service detail')
      .type(dashboard.DashboardLinkType.Link)
      .url(`/d/${SERVICE_DETAIL_UID}`)
      .includeVars(true)
      .keepTime(true)
      .icon('dashboard'),
  );
  const section = (title: string, panels: AnyPanelBuilder[]): void => {
    b.withRow(new dashboard.RowBuilder(title));
    for (const p of panels) b.withPanel(p);
  };
  section('Firing alerts', alerts(T));
  section('Storage', storage(T));
  section('Services', services(T));
  section('Health', health(T));
  section('Silent failures', silentFailuresPanels(sel));
  return numberPanels(b.build());
}
