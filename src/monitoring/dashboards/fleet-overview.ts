// "Fleet overview": every host on one screen, one table row per host, from the `hostaudit:…`
// recording rules (src/monitoring/recording-rules.ts) so it stays cheap at hundreds of hosts.
// Each host's name links to the "Host audit" dashboard for that instance.
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as table from '@grafana/grafana-foundation-sdk/table';
import { THRESHOLDS } from '../thresholds.js';
import {
  DATASOURCE,
  datasourceVariable,
  instantTable,
  numberPanels,
  query,
  statPanel,
  thresholds,
  timeseriesPanel,
  type AnyPanelBuilder,
} from './common.js';
import { HOST_AUDIT_UID } from './host-audit.js';

export const FLEET_OVERVIEW_UID = 'hostaudit-fleet-overview';

/** The job of each host's Prometheus agent scraping itself (fleet/agent/prometheus.yml). */
export const AGENT_JOB = 'prometheus-agent';

const T = THRESHOLDS;
const JOB = 'job=~"$job"';

/** Every host the exporter job knows, for a 0 where a count over alerts has nothing to count. */
const HOSTS = `count by (instance) (hostaudit:exporter_up:min{${JOB}})`;
const orZero = (expr: string): string => `${expr}\n  or on (instance) 0 * ${HOSTS}`;
// Not limited to the hosts reporting now: a silent host keeps its row through its alert.
const firing = (severity: string): string => orZero(`sum by (instance) (hostaudit:alerts_firing:count{severity="${severity}"})`);

/** One column of the hosts table: its query (refId = column letter), header and unit. */
interface Column {
  ref: string;
  header: string;
  expr: string;
  unit: string;
  lines?: Array<{ value: number; color: 'orange' | 'red' }>;
  mappings?: dashboard.ValueMapping[];
}

const COLUMNS: Column[] = [
  {
    ref: 'A',
    header: 'Exporter',
    expr: `hostaudit:exporter_up:min{${JOB}}`,
    unit: 'none',
    mappings: [
      {
        type: dashboard.MappingType.ValueToText,
        options: { '1': { text: 'UP', color: 'green', index: 0 }, '0': { text: 'DOWN', color: 'red', index: 1 } },
      },
    ],
  },
  { ref: 'B', header: 'Services running', expr: `hostaudit:services_running:sum{${JOB}}`, unit: 'short' },
  { ref: 'C', header: 'Services', expr: `hostaudit:services:count{${JOB}}`, unit: 'short' },
  { ref: 'D', header: 'Critical', expr: firing('critical'), unit: 'short', lines: [{ value: 1, color: 'red' }] },
  { ref: 'E', header: 'Warning', expr: firing('warning'), unit: 'short', lines: [{ value: 1, color: 'orange' }] },
  { ref: 'F', header: 'Info', expr: firing('info'), unit: 'short' },
  {
    ref: 'G',
    header: 'Busiest service CPU',
    expr: `hostaudit:busiest_service_cpu_cores:rate5m{${JOB}}`,
    unit: 'percentunit',
    lines: [
      { value: T.serviceHighCpu.value, color: 'orange' },
      { value: T.serviceCpuSaturated.value, color: 'red' },
    ],
  },
  { ref: 'H', header: 'Logs', expr: `hostaudit:logs_bytes:max{${JOB}}`, unit: 'bytes', lines: [{ value: T.logsLarge.value, color: 'orange' }] },
  { ref: 'I', header: 'Disk left', expr: `hostaudit:filesystem_avail_ratio:min{${JOB}}`, unit: 'percentunit' },
  {
    ref: 'J',
    header: 'Stale databases',
    expr: orZero('sum by (instance) (hostaudit:databases_stale:count)'),
    unit: 'short',
    lines: [{ value: 1, color: 'orange' }],
  },
];

function hostsTable(): table.PanelBuilder {
  const p = new table.PanelBuilder()
    .title('Hosts')
    .description(
      'One row per host: exporter up, services running of all, firing HostAudit alerts by severity, the busiest service and its CPU (share of a core, 5m), the logs directory, the least free space of its filesystems, databases past expect_write_within. The host name opens its "Host audit" dashboard.',
    )
    .datasource(DATASOURCE)
    .unit('none')
    .span(24)
    .height(12)
    .targets(COLUMNS.map((c) => instantTable(c.expr, c.ref)))
    .thresholds(thresholds())
    .cellOptions({ type: common.TableCellDisplayMode.ColorText })
    // Each query is a frame keyed by instance; joined into one row per host.
    .withTransformation({ id: 'joinByField', options: { byField: 'instance', mode: 'outer' } })
    .withTransformation({ id: 'filterFieldsByName', options: { exclude: { pattern: '^(Time|__name__|job|severity)( \\d+)?$' } } })
    .withTransformation({
      id: 'organize',
      options: {
        renameByName: { instance: 'Host', group: 'Busiest group', name: 'Busiest service', ...Object.fromEntries(COLUMNS.map((c) => [`Value #${c.ref}`, c.header])) },
      },
    })
    .overrideByName('Host', [
      {
        id: 'links',
        value: [
          {
            title: 'Host audit for ${__value.text}',
            url: `/d/${HOST_AUDIT_UID}?var-job=\${job}&var-instance=\${__value.raw}&\${__url_time_range}`,
          },
        ],
      },
    ]);
  for (const c of COLUMNS) {
    const props: dashboard.DynamicConfigValue[] = [{ id: 'unit', value: c.unit }];
    if (c.lines) props.push({ id: 'thresholds', value: thresholds(c.lines).build() });
    if (c.mappings) props.push({ id: 'mappings', value: c.mappings });
    p.overrideByName(c.header, props);
  }
  return p;
}

const panels: AnyPanelBuilder[] = [
  statPanel({
    title: 'Hosts reporting',
    description: 'Hosts whose exporter the local agent scraped in the last evaluation.',
    unit: 'short',
    targets: [query(`sum(hostaudit:exporter_up:min{${JOB}})`, 'hosts')],
  }),
  statPanel({
    title: 'Hosts silent',
    description: 'HostAuditHostSilent firing: hosts that reported in the last 24 h and sent nothing for 10 minutes.',
    unit: 'short',
    targets: [query('count(ALERTS{alertname="HostAuditHostSilent", alertstate="firing"}) or vector(0)', 'silent')],
    lines: [{ value: 1, color: 'red' }],
  }),
  statPanel({
    title: 'Services running',
    description: 'RUNNING services over the fleet.',
    unit: 'short',
    targets: [query(`sum(hostaudit:services_running:sum{${JOB}})`, 'running')],
  }),
  statPanel({
    title: 'Firing alerts',
    description: 'HostAudit alerts firing over the fleet.',
    unit: 'short',
    targets: [query('sum(hostaudit:alerts_firing:count) or vector(0)', 'firing')],
    lines: [{ value: 1, color: 'orange' }],
  }),
  hostsTable(),
  timeseriesPanel({
    title: 'Busiest services in the fleet (share of one core)',
    description: 'The ten services using the most CPU over all hosts. Dashed lines: HostAuditServiceHighCPU and HostAuditServiceCPUSaturated.',
    unit: 'percentunit',
    targets: [query(`topk(10, hostaudit:service_cpu_cores:rate5m{${JOB}})`, '{{instance}} {{group}}/{{name}}')],
    lines: [
      { value: T.serviceHighCpu.value, color: 'orange' },
      { value: T.serviceCpuSaturated.value, color: 'red' },
    ],
    min: 0,
  }),
  timeseriesPanel({
    title: 'Firing alerts by host',
    description: 'HostAudit alerts firing per host and severity.',
    unit: 'short',
    targets: [query('hostaudit:alerts_firing:count', '{{instance}} {{severity}}')],
    min: 0,
  }),
  timeseriesPanel({
    title: 'Samples per scrape, per host',
    description: "Series each host's exporter serves (scrape_samples_scraped): the figure that sizes the central store.",
    unit: 'short',
    targets: [query(`sum by (instance) (scrape_samples_scraped{${JOB}})`, '{{instance}}')],
  }),
  timeseriesPanel({
    title: 'Remote-write bytes per second, per host',
    description: "What each host's agent sends to the central store (prometheus_remote_storage_bytes_total, compressed).",
    unit: 'Bps',
    targets: [
      query(`sum by (instance) (rate(prometheus_remote_storage_bytes_total{job="${AGENT_JOB}"}[$__rate_interval]))`, '{{instance}}'),
    ],
  }),
];

export function fleetOverviewDashboard(): dashboard.Dashboard {
  const b = new dashboard.DashboardBuilder('Fleet overview')
    .uid(FLEET_OVERVIEW_UID)
    .description('Every host of the fleet: one row per host, linking to its Host audit dashboard (hostaudit-exporter).')
    .tags(['hostaudit'])
    .editable()
    .time({ from: 'now-6h', to: 'now' })
    .refresh('1m')
    .withVariable(datasourceVariable())
    .withVariable(
      new dashboard.QueryVariableBuilder('job')
        .label('Job')
        .datasource(DATASOURCE)
        .query({ query: 'label_values(hostaudit:exporter_up:min, job)', refId: 'job-variable' })
        .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
        .sort(dashboard.VariableSort.AlphabeticalAsc),
    );
  b.link(
    new dashboard.DashboardLinkBuilder('Host audit')
      .type(dashboard.DashboardLinkType.Link)
      .url(`/d/${HOST_AUDIT_UID}`)
      .includeVars(true)
      .keepTime(true)
      .icon('dashboard'),
  );
  for (const p of panels) b.withPanel(p);
  return numberPanels(b.build());
}
