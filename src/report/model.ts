// The audit report as data: what `audit --format=json` prints, what `--baseline` reads back,
// and what the markdown renderer lays out in the hand audit's shape (docs/background.md). Raw units only
// (bytes, seconds, percent of one core); renderers format. Keys are snake_case like the
// audit's own JSON summary, and are a public interface once a baseline file holds them:
// add fields freely, rename none.
import type { Severity, ThresholdKey } from '../monitoring/thresholds.js';
import type { SupervisorFailure } from '../sources/supervisor-error.js';
import type { SilentFailures } from './silent-failures.js';

export const REPORT_SCHEMA = 'hostaudit-audit/1';

export type Status = 'healthy' | 'info' | 'warning' | 'critical';

export interface PathFigure {
  name: string;
  path: string;
  bytes: number | null;
  files: number | null;
  scan_errors: number | null;
  /** Regular files modified within each configured window, keyed as written in the config ("10m"). */
  files_modified: Record<string, number>;
}

export interface DatabaseFigure {
  database: string;
  path: string;
  /** main + wal + shm */
  bytes: number;
  main_bytes: number | null;
  wal_bytes: number | null;
  ok: boolean | null;
  tables: number | null;
  indexes: number | null;
}

export interface ServiceFigure {
  group: string;
  name: string;
  state: string;
  /** CPU of the process tree over the sample window, percent of one core (100 = one core). */
  cpu_percent: number | null;
  memory_bytes: number | null;
  processes: number | null;
  uptime_seconds: number | null;
  log_bytes: number | null;
  tcp_connections: number | null;
  /** supervisord's description ("pid 123", "Exited too quickly (process log may have details)"). */
  description: string;
  /** Starts seen while sampling (the collector's reads and its background poll); null when supervisord was not read at the sample's start. */
  restarts_in_sample: number | null;
}

export interface ProbeFigure {
  probe: string;
  /** Without credentials. */
  url: string;
  success: boolean;
  status_code: number | null;
  duration_seconds: number | null;
}

export interface FileFigure {
  path: string;
  present: boolean;
}

export interface Anomaly {
  /** The key in src/monitoring/thresholds.ts: the alert rules judge by the same entry. */
  threshold: ThresholdKey;
  alert: string;
  severity: Severity;
  /** What it is about: "kalshi:kalshi_account_sync", "logs", a probe, a path. */
  subject: string;
  /** One line naming what and where, from this host's figures: "High CPU: worker_02". */
  title: string;
  /** The measured value, in the threshold's unit (cores, bytes, …). */
  value: number;
  limit: number;
  /** Human "Current" line: "45.9% of a core (27.4% in the baseline)". */
  current: string;
  analysis: string;
  recommendation: string;
}

export interface ComparisonRow {
  section: 'storage' | 'processes' | 'services' | 'databases';
  component: string;
  unit: 'bytes' | 'count' | 'percent';
  baseline: number | null;
  now: number | null;
  /** (now − baseline) / baseline × 100; null when either side is missing or the baseline is 0. */
  change_percent: number | null;
  /** Whether the row's service, path or database is in both reports, only in this one (new) or only in the baseline (gone). */
  presence: 'both' | 'new' | 'gone';
}

export interface AuditReport {
  schema: typeof REPORT_SCHEMA;
  generated_at: string;
  hostname: string;
  exporter_version: string;
  config_file: string | null;
  /** --sample as requested. */
  sample_seconds: number;
  /** Seconds actually between the two supervisor readings the CPU rates are taken over. */
  cpu_window_seconds: number | null;
  status: Status;
  storage: {
    paths: PathFigure[];
    databases: DatabaseFigure[];
    databases_bytes: number;
  };
  supervisor: {
    up: boolean;
    url: string | null;
    version: string | null;
    services_total: number;
    services_running: number;
    /** Why supervisord could not be read; null when it answered. */
    failure: SupervisorFailure | null;
    /** The error as logged (credentials never in it). */
    error: string | null;
  };
  services: ServiceFigure[];
  processes: {
    /** hostaudit_host_processes by configured name. */
    by_name: Record<string, number>;
    services_memory_bytes: number;
    top_cpu: { group: string; name: string; cpu_percent: number } | null;
  };
  host: {
    memory: { total_bytes: number; available_bytes: number; used_bytes: number } | null;
    /** Host-wide TCP sockets by state. */
    tcp: Record<string, number>;
    /** TCP sockets not listening: established, time_wait, close_wait, … */
    network_connections: number | null;
  };
  health: {
    probes: ProbeFigure[];
    critical_files: FileFigure[];
  };
  recent_activity: {
    files_modified: Array<{ name: string; path: string; within: string; files: number }>;
    service_uptime_avg_seconds: number | null;
  };
  anomalies: Anomaly[];
  collectors: Array<{ collector: string; success: boolean }>;
  /** Freshness of databases and logs, disk left, deleted files held open (report/silent-failures.ts). */
  silent_failures?: SilentFailures;
  /** Present with --baseline. */
  baseline?: {
    file: string;
    generated_at: string | null;
    /** Seconds between the baseline and this report; null when the baseline has no time. */
    age_seconds: number | null;
    /** Whether growth was extrapolated from the baseline, and why not when it was not. */
    growth_extrapolated: boolean;
    growth_note: string | null;
    rows: ComparisonRow[];
  };
}
