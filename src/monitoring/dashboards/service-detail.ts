// "Service detail": one supervisord service, chosen by the `group` and `name` variables: its
// state history, CPU by mode, memory, processes, file descriptors, connections and log bytes.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { GROWTH, THRESHOLDS, type ThresholdSet } from '../thresholds.js';
import {
  HOST,
  datasourceVariable,
  hostVariables,
  numberPanels,
  query,
  serviceStateCodeExpr,
  serviceVariables,
  stateMappings,
  statPanel,
  statetimelinePanel,
  timeseriesPanel,
  type AnyPanelBuilder,
} from './common.js';
import { HOST_AUDIT_UID, SERVICE_DETAIL_UID } from './host-audit.js';
import { serviceDepthPanels } from './silent-failures.js';

const SERVICE = `${HOST}, group=~"$group", name=~"$name"`;
const s = (extra?: string): string => (extra ? `{${SERVICE}, ${extra}}` : `{${SERVICE}}`);

const panels = (T: ThresholdSet): AnyPanelBuilder[] => [
  statPanel({
    title: 'State',
    description: 'The current supervisord state.',
    unit: 'none',
    targets: [query(serviceStateCodeExpr(SERVICE), '{{name}}')],
    mappings: stateMappings(),
  }),
  statPanel({
    title: 'Uptime',
    description: 'Time since the current process started.',
    unit: 's',
    targets: [query(`time() - hostaudit_service_start_time_seconds${s()}`, '{{name}}')],
  }),
  statPanel({
    title: `Restarts in the last ${GROWTH.flappingWindow}`,
    description: `Restarts counted by the exporter; more than ${T.serviceFlapping.value} fires HostAuditServiceFlapping.`,
    unit: 'short',
    targets: [query(`sum by (group, name) (increase(hostaudit_service_restarts_total${s()}[${GROWTH.flappingWindow}]))`, '{{name}}')],
    lines: [{ value: T.serviceFlapping.value, color: 'orange' }],
  }),
  statPanel({
    title: 'Last exit status',
    description: 'The exit status supervisord recorded for the last process of this service.',
    unit: 'none',
    targets: [query(`hostaudit_service_exit_status${s()}`, '{{name}}')],
  }),
  statetimelinePanel({
    title: 'State history',
    description: 'supervisord state over time (FATAL, BACKOFF or EXITED for 2m fires HostAuditServiceDown).',
    unit: 'none',
    targets: [query(serviceStateCodeExpr(SERVICE), '{{name}}')],
    mappings: stateMappings(),
    height: 5,
  }),
  timeseriesPanel({
    title: 'CPU by mode (share of one core)',
    description:
      'User and system CPU of the process tree, stacked; 100% is one full core. Dashed lines: HostAuditServiceHighCPU and HostAuditServiceCPUSaturated.',
    unit: 'percentunit',
    targets: [query(`sum by (mode) (rate(hostaudit_service_cpu_seconds_total${s()}[$__rate_interval]))`, '{{mode}}')],
    lines: [
      { value: T.serviceHighCpu.value, color: 'orange' },
      { value: T.serviceCpuSaturated.value, color: 'red' },
    ],
    stack: true,
    min: 0,
  }),
  timeseriesPanel({
    title: 'Memory',
    description: 'Resident and virtual memory of the process tree.',
    unit: 'bytes',
    targets: [
      query(`hostaudit_service_resident_memory_bytes${s()}`, 'resident', 'A'),
      query(`hostaudit_service_virtual_memory_bytes${s()}`, 'virtual', 'B'),
    ],
  }),
  timeseriesPanel({
    title: 'Processes',
    description: 'Live processes in the tree (the service and its children).',
    unit: 'short',
    targets: [query(`hostaudit_service_processes${s()}`, 'processes')],
    width: 8,
  }),
  timeseriesPanel({
    title: 'Open file descriptors',
    description: 'File descriptors open across the process tree.',
    unit: 'short',
    targets: [query(`hostaudit_service_open_fds${s()}`, 'fds')],
    width: 8,
  }),
  timeseriesPanel({
    title: 'TCP connections',
    description: 'TCP sockets held by the process tree, listening ones included.',
    unit: 'short',
    targets: [query(`hostaudit_service_tcp_connections${s()}`, 'connections')],
    width: 8,
  }),
  timeseriesPanel({
    title: 'Log bytes',
    description: 'The stdout and stderr log files plus their rotated backups.',
    unit: 'bytes',
    targets: [query(`hostaudit_service_log_bytes${s()}`, '{{stream}}')],
    width: 24,
  }),
];

export function serviceDetailDashboard(T: ThresholdSet = THRESHOLDS): dashboard.Dashboard {
  const b = new dashboard.DashboardBuilder('Service detail')
    .uid(SERVICE_DETAIL_UID)
    .description('One supervisord service in detail (hostaudit-exporter).')
    .tags(['hostaudit'])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: 'now-6h', to: 'now' })
    .refresh('1m')
    .withVariable(datasourceVariable());
  for (const v of [...hostVariables(), ...serviceVariables()]) b.withVariable(v);
  b.link(
    new dashboard.DashboardLinkBuilder('Host audit')
      .type(dashboard.DashboardLinkType.Link)
      .url(`/d/${HOST_AUDIT_UID}`)
      .includeVars(true)
      .keepTime(true)
      .icon('dashboard'),
  );
  for (const p of panels(T)) b.withPanel(p);
  b.withRow(new dashboard.RowBuilder('Depth'));
  for (const p of serviceDepthPanels(s)) b.withPanel(p);
  return numberPanels(b.build());
}
