// The 0.2 panels: the host dashboard's "Silent failures" row (stale databases and logs, held
// deleted bytes, disk left and predicted, fd ratio, certificates) and the service dashboard's
// per-service depth (threads, I/O, context switches, faults, PSS, swap, fds). Threshold lines
// come from the thresholds module.
import { GROWTH, THRESHOLDS } from '../thresholds.js';
import { instantTable, query, tablePanel, timeseriesPanel, type AnyPanelBuilder, type Line } from './common.js';

const T = THRESHOLDS;
const warn = (value: number): Line => ({ value, color: 'orange' });
const crit = (value: number): Line => ({ value, color: 'red' });

/** `sel` gives a label selector with the host matchers plus its argument (common.sel). */
export function silentFailuresPanels(sel: (extra?: string) => string): AnyPanelBuilder[] {
  return [
    timeseriesPanel({
      title: 'Database age since last write',
      description:
        'Seconds since each database (main file or -wal) was last written, and its expect_write_within where set: above it fires HostAuditDatabaseStale.',
      unit: 's',
      targets: [
        query(`time() - hostaudit_sqlite_last_write_timestamp_seconds${sel()}`, '{{database}}', 'A'),
        query(`hostaudit_sqlite_expected_write_within_seconds${sel()}`, '{{database}} expected within', 'B'),
      ],
    }),
    timeseriesPanel({
      title: 'Service log age since last write',
      description:
        "Seconds since each service last wrote either of its logs, and its expect_log_write_within where set: above it, while RUNNING, fires HostAuditServiceSilent.",
      unit: 's',
      targets: [
        query(`time() - max by (group, name) (hostaudit_service_log_last_write_timestamp_seconds${sel()})`, '{{name}}', 'A'),
        query(`hostaudit_service_expected_log_write_within_seconds${sel()}`, '{{name}} expected within', 'B'),
      ],
    }),
    timeseriesPanel({
      title: 'Deleted files held open',
      description:
        'Bytes of deleted files each service still holds open: disk du does not see and df does not get back until the service closes them. Dashed line: HostAuditDeletedFilesHeld.',
      unit: 'bytes',
      targets: [query(`hostaudit_service_deleted_open_bytes${sel()}`, '{{name}}')],
      lines: [warn(T.deletedFilesHeld.value)],
      min: 0,
    }),
    timeseriesPanel({
      title: 'Disk left',
      description:
        'Share of each filesystem (holding a watched path, database or log) available to an unprivileged user. Dashed lines: HostAuditDiskFillingUp (with a prediction to fill) and HostAuditDiskAlmostFull.',
      unit: 'percentunit',
      targets: [query(`hostaudit_filesystem_avail_bytes${sel()} / hostaudit_filesystem_size_bytes${sel()}`, '{{mountpoint}} ({{device}})')],
      lines: [crit(T.diskAlmostFull.value), warn(T.diskFillingUp.value)],
      min: 0,
    }),
    timeseriesPanel({
      title: 'Disk available, predicted in 24 hours',
      description: `Where a linear fit over ${GROWTH.diskLookback} puts each filesystem's available bytes in 24 hours; below 0 (with less than 40% left) fires HostAuditDiskFillingUp.`,
      unit: 'bytes',
      targets: [
        query(`predict_linear(hostaudit_filesystem_avail_bytes${sel()}[${GROWTH.diskLookback}], ${GROWTH.diskHorizonSeconds})`, '{{mountpoint}}'),
      ],
      lines: [crit(0)],
    }),
    timeseriesPanel({
      title: 'Open files against the limit',
      description: "Each service's highest open fds / soft NOFILE limit of any of its processes. Dashed line: HostAuditServiceFdExhaustion.",
      unit: 'percentunit',
      targets: [query(`hostaudit_service_fd_usage_ratio${sel()}`, '{{name}}')],
      lines: [warn(T.serviceFdExhaustion.value)],
      min: 0,
    }),
    tablePanel({
      title: 'Log rotation',
      description: "supervisor's rotation of each service log: maxbytes 0 means never rotated (HostAuditServiceLogUnrotated above 256 MiB).",
      unit: 'bytes',
      targets: [instantTable(`hostaudit_service_log_rotation_max_bytes${sel()}`)],
    }),
    tablePanel({
      title: 'Certificates: time to expiry',
      description: 'Time until the earliest notAfter of each HTTPS probe\'s chain; under 14 days fires HostAuditCertificateExpiring.',
      unit: 's',
      targets: [instantTable(`hostaudit_probe_tls_cert_expiry_timestamp_seconds${sel()} - time()`)],
      lines: [crit(0), warn(T.certificateExpiring.value)],
    }),
  ];
}

/** `s` gives the service selector (host and the group/name variables) plus its argument. */
export function serviceDepthPanels(s: (extra?: string) => string): AnyPanelBuilder[] {
  return [
    timeseriesPanel({
      title: 'Storage I/O',
      description: 'Bytes per second the process tree reads from and writes to storage (/proc/PID/io), exited children included.',
      unit: 'Bps',
      targets: [query(`rate(hostaudit_service_io_bytes_total${s()}[$__rate_interval])`, '{{direction}}')],
      width: 8,
    }),
    timeseriesPanel({
      title: 'Context switches',
      description: 'Voluntary (waiting on I/O, locks) and involuntary (preempted: CPU contention) switches per second.',
      unit: 'ops',
      targets: [query(`rate(hostaudit_service_context_switches_total${s()}[$__rate_interval])`, '{{kind}}')],
      width: 8,
    }),
    timeseriesPanel({
      title: 'Major page faults',
      description: 'Faults that read from disk, per second: memory pressure or a cold start.',
      unit: 'ops',
      targets: [query(`rate(hostaudit_service_major_page_faults_total${s()}[$__rate_interval])`, 'major faults')],
      width: 8,
    }),
    timeseriesPanel({
      title: 'Proportional memory and swap',
      description: 'PSS of the tree (memory shared by forked workers counted once; each reading at most 30 s old) beside RSS, and swap.',
      unit: 'bytes',
      targets: [
        query(`hostaudit_service_proportional_memory_bytes${s()}`, 'PSS', 'A'),
        query(`hostaudit_service_resident_memory_bytes${s()}`, 'RSS', 'B'),
        query(`hostaudit_service_swap_bytes${s()}`, 'swap', 'C'),
      ],
      width: 8,
    }),
    timeseriesPanel({
      title: 'Threads and fd usage',
      description: 'Threads over the tree; the highest open fds / soft limit of any process (HostAuditServiceFdExhaustion above 80%).',
      unit: 'short',
      targets: [
        query(`hostaudit_service_threads${s()}`, 'threads', 'A'),
        query(`hostaudit_service_fd_usage_ratio${s()} * 100`, 'fd usage %', 'B'),
      ],
      width: 8,
    }),
    timeseriesPanel({
      title: 'Deleted files held, unreadable processes',
      description:
        'Bytes of deleted files the tree holds open (HostAuditDeletedFilesHeld), and processes whose /proc files the exporter may not read (their figures are absent).',
      unit: 'short',
      targets: [
        query(`hostaudit_service_deleted_open_bytes${s()}`, 'deleted bytes held', 'A'),
        query(`hostaudit_service_read_errors${s()}`, 'unreadable processes', 'B'),
      ],
      width: 8,
    }),
    timeseriesPanel({
      title: 'Log age since last write',
      description: 'Seconds since each log stream was last written; the expect_log_write_within where set (HostAuditServiceSilent).',
      unit: 's',
      targets: [
        query(`time() - hostaudit_service_log_last_write_timestamp_seconds${s()}`, '{{stream}}', 'A'),
        query(`hostaudit_service_expected_log_write_within_seconds${s()}`, 'expected within', 'B'),
      ],
      width: 24,
    }),
  ];
}
