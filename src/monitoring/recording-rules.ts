// Recording rules (`hostaudit:…`, docs/fleet.md): the per-host aggregates the fleet
// dashboard reads, evaluated once per interval at the central store instead of once per panel
// refresh over every raw series of every host. `npm run generate` writes them to
// alerts/hostaudit.recording.rules.yml, loaded beside the alert rules by Prometheus and vmalert.
//
// Names follow Prometheus's level:metric:operations convention; every rule keeps `job` and
// `instance` (the host) so a dashboard or an alert can join on them.
import { EXPORTER_JOB_SELECTOR, PATH_NAMES } from './thresholds.js';

export interface RecordingRule {
  record: string;
  expr: string;
}

export const RECORDING_RULES: readonly RecordingRule[] = [
  {
    // The same aggregation as HostAuditServiceHighCPU and HostAuditServiceCPUSaturated.
    record: 'hostaudit:service_cpu_cores:rate5m',
    expr: 'sum by (job, instance, group, name) (rate(hostaudit_service_cpu_seconds_total[5m]))',
  },
  {
    record: 'hostaudit:busiest_service_cpu_cores:rate5m',
    expr: 'topk by (job, instance) (1, hostaudit:service_cpu_cores:rate5m)',
  },
  {
    record: 'hostaudit:services_running:sum',
    expr: 'sum by (job, instance) (hostaudit_service_up)',
  },
  {
    record: 'hostaudit:services:count',
    expr: 'count by (job, instance) (hostaudit_service_up)',
  },
  {
    record: 'hostaudit:logs_bytes:max',
    expr: `max by (job, instance) (hostaudit_path_bytes{name="${PATH_NAMES.logs}"})`,
  },
  {
    // The fullest filesystem the host's watched paths, databases and logs live on.
    record: 'hostaudit:filesystem_avail_ratio:min',
    expr: 'min by (job, instance) (hostaudit_filesystem_avail_bytes / hostaudit_filesystem_size_bytes)',
  },
  {
    record: 'hostaudit:exporter_up:min',
    expr: `min by (job, instance) (up{${EXPORTER_JOB_SELECTOR}})`,
  },
  {
    // ALERTS of HostAuditHostSilent carry no job: by instance only.
    record: 'hostaudit:alerts_firing:count',
    expr: 'count by (instance, severity) (ALERTS{alertname=~"HostAudit.*", alertstate="firing"})',
  },
  {
    record: 'hostaudit:databases_stale:count',
    expr: 'count by (instance) (ALERTS{alertname="HostAuditDatabaseStale", alertstate="firing"})',
  },
];

export interface RecordingRuleFile {
  groups: Array<{ name: string; rules: RecordingRule[] }>;
}

export function recordingRuleFile(): RecordingRuleFile {
  return { groups: [{ name: 'hostaudit-recording', rules: [...RECORDING_RULES] }] };
}
