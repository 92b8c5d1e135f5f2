// One collection's families (plus a first supervisor reading for CPU rates) → the report's
// figures. No I/O and no judgement here: anomalies.ts judges, renderers format.
import type { MetricFamily } from '../collectors/metric-family.js';
import type { Config } from '../config.js';
import { safeUrl } from '../sources/supervisor.js';
import type { SupervisorFailure } from '../sources/supervisor-error.js';
import { FamilyIndex } from './families.js';
import { silentFailures } from './silent-failures.js';
import {
  REPORT_SCHEMA,
  type AuditReport,
  type DatabaseFigure,
  type PathFigure,
  type ProbeFigure,
  type ServiceFigure,
} from './model.js';
import { serviceId } from './service-id.js';

export interface BuildInput {
  config: Config;
  /** The full collection the report describes. */
  families: readonly MetricFamily[];
  /** The supervisor collector's families one sample window earlier (for CPU rates). */
  cpuBefore: readonly MetricFamily[] | undefined;
  /** Seconds between the two supervisor readings. */
  elapsedSeconds: number;
  generatedAt: Date;
  host: string;
  version: string;
  sampleSeconds: number;
  /** Why supervisord could not be read, from the supervisor collector; undefined when it answered. */
  supervisorFailure?: { failure: SupervisorFailure; error: string } | undefined;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

function serviceCpuSeconds(ix: FamilyIndex, group: string, name: string): number | null {
  const s = ix.all('hostaudit_service_cpu_seconds_total', { group, name });
  return s.length === 0 ? null : s.reduce((a, x) => a + x.value, 0);
}

export function buildReport(input: BuildInput): AuditReport {
  const ix = new FamilyIndex(input.families);
  const before = input.cpuBefore ? new FamilyIndex(input.cpuBefore) : undefined;
  const nowSeconds = input.generatedAt.getTime() / 1000;

  // Storage: the configured paths in config order, databases by path.
  const paths: PathFigure[] = input.config.paths.map((p) => {
    const l = { name: p.name };
    const modified: Record<string, number> = {};
    for (const s of ix.all('hostaudit_path_files_modified', l)) {
      if (s.labels.within !== undefined) modified[s.labels.within] = s.value;
    }
    return {
      name: p.name,
      path: p.path,
      bytes: ix.one('hostaudit_path_bytes', l),
      files: ix.one('hostaudit_path_files', l),
      scan_errors: ix.one('hostaudit_path_scan_errors', l),
      files_modified: modified,
    };
  });
  const dbByPath = new Map<string, DatabaseFigure>();
  const db = (path: string, database: string): DatabaseFigure => {
    let d = dbByPath.get(path);
    if (!d) {
      d = { database, path, bytes: 0, main_bytes: null, wal_bytes: null, ok: null, tables: null, indexes: null };
      dbByPath.set(path, d);
    }
    return d;
  };
  for (const s of ix.all('hostaudit_sqlite_bytes')) {
    const d = db(s.labels.path ?? '', s.labels.database ?? '');
    d.bytes += s.value;
    if (s.labels.file === 'main') d.main_bytes = s.value;
    if (s.labels.file === 'wal') d.wal_bytes = s.value;
  }
  for (const s of ix.all('hostaudit_sqlite_ok')) db(s.labels.path ?? '', s.labels.database ?? '').ok = s.value === 1;
  for (const s of ix.all('hostaudit_sqlite_tables')) db(s.labels.path ?? '', s.labels.database ?? '').tables = s.value;
  for (const s of ix.all('hostaudit_sqlite_indexes')) db(s.labels.path ?? '', s.labels.database ?? '').indexes = s.value;
  const databases = [...dbByPath.values()].sort((a, b) => a.path.localeCompare(b.path));

  // Services: one per hostaudit_service_info, CPU as a rate over the sample window.
  const services: ServiceFigure[] = ix.all('hostaudit_service_info').map((info) => {
    const group = info.labels.group ?? '';
    const name = info.labels.name ?? '';
    const l = { group, name };
    const state = ix.all('hostaudit_service_state', l).find((s) => s.value === 1)?.labels.state ?? 'UNKNOWN';
    const start = ix.one('hostaudit_service_start_time_seconds', l);
    const running = state === 'RUNNING';
    const uptime = running && start !== null && start > 0 ? Math.max(0, nowSeconds - start) : null;
    let cpu: number | null = null;
    const cpuNow = serviceCpuSeconds(ix, group, name);
    if (cpuNow !== null) {
      const cpuThen = before ? serviceCpuSeconds(before, group, name) : null;
      if (cpuThen !== null && cpuNow >= cpuThen && input.elapsedSeconds > 0) {
        cpu = ((cpuNow - cpuThen) / input.elapsedSeconds) * 100;
      } else if (before && uptime !== null) {
        // Started (or restarted) during the window: all its CPU was spent since it started.
        cpu = (cpuNow / Math.max(1, Math.min(uptime, input.elapsedSeconds || uptime))) * 100;
      }
    }
    const logs = ix.all('hostaudit_service_log_bytes', l);
    // Restarts the collector and its poll counted between the sample's first and last reading.
    const restartsNow = ix.one('hostaudit_service_restarts_total', l);
    const restartsThen = before?.has('hostaudit_supervisor_up') && before.one('hostaudit_supervisor_up') === 1 ? (before.one('hostaudit_service_restarts_total', l) ?? 0) : null;
    return {
      group,
      name,
      state,
      cpu_percent: cpu === null ? null : round1(cpu),
      memory_bytes: ix.one('hostaudit_service_resident_memory_bytes', l),
      processes: ix.one('hostaudit_service_processes', l),
      uptime_seconds: uptime === null ? null : Math.round(uptime),
      log_bytes: logs.length === 0 ? null : logs.reduce((a, s) => a + s.value, 0),
      tcp_connections: ix.one('hostaudit_service_tcp_connections', l),
      description: info.labels.description ?? '',
      restarts_in_sample: restartsNow !== null && restartsThen !== null ? Math.max(0, restartsNow - restartsThen) : null,
    };
  });
  services.sort((a, b) => (b.cpu_percent ?? -1) - (a.cpu_percent ?? -1) || serviceId(a).localeCompare(serviceId(b)));
  const top = services.find((s) => s.cpu_percent !== null);

  const byName: Record<string, number> = {};
  for (const s of ix.all('hostaudit_host_processes')) byName[s.labels.name ?? ''] = s.value;

  const tcp: Record<string, number> = {};
  for (const s of ix.all('hostaudit_host_tcp_connections')) tcp[s.labels.state ?? 'unknown'] = s.value;
  const tcpStates = Object.entries(tcp);
  const memTotal = ix.one('hostaudit_host_memory_bytes', { kind: 'total' });
  const memAvail = ix.one('hostaudit_host_memory_bytes', { kind: 'available' });
  const memUsed = ix.one('hostaudit_host_memory_bytes', { kind: 'used' });

  const probes: ProbeFigure[] = ix.all('hostaudit_probe_success').map((s) => {
    const l = { probe: s.labels.probe ?? '', url: s.labels.url ?? '' };
    return {
      ...l,
      success: s.value === 1,
      status_code: ix.one('hostaudit_probe_status_code', l),
      duration_seconds: ix.one('hostaudit_probe_duration_seconds', l),
    };
  });

  const files_modified = paths.flatMap((p) =>
    Object.entries(p.files_modified).map(([within, files]) => ({ name: p.name, path: p.path, within, files })),
  );
  const supervisorUp = ix.one('hostaudit_supervisor_up') === 1;
  const uptimes = services.map((s) => s.uptime_seconds).filter((u): u is number => u !== null);

  return {
    schema: REPORT_SCHEMA,
    generated_at: input.generatedAt.toISOString(),
    hostname: input.host,
    exporter_version: input.version,
    config_file: input.config.file ?? null,
    sample_seconds: input.sampleSeconds,
    cpu_window_seconds: input.cpuBefore && input.elapsedSeconds > 0 ? Math.round(input.elapsedSeconds * 100) / 100 : null,
    status: 'healthy',
    storage: { paths, databases, databases_bytes: databases.reduce((a, d) => a + d.bytes, 0) },
    supervisor: {
      up: supervisorUp,
      url: input.config.supervisor.urls.map(safeUrl).join(', ') || null,
      version: ix.all('hostaudit_supervisor_info')[0]?.labels.version ?? null,
      services_total: services.length,
      services_running: services.filter((s) => s.state === 'RUNNING').length,
      failure: supervisorUp ? null : (input.supervisorFailure?.failure ?? null),
      error: supervisorUp ? null : (input.supervisorFailure?.error ?? null),
    },
    services,
    processes: {
      by_name: byName,
      services_memory_bytes: services.reduce((a, s) => a + (s.memory_bytes ?? 0), 0),
      top_cpu: top ? { group: top.group, name: top.name, cpu_percent: top.cpu_percent as number } : null,
    },
    host: {
      memory:
        memTotal !== null && memAvail !== null && memUsed !== null
          ? { total_bytes: memTotal, available_bytes: memAvail, used_bytes: memUsed }
          : null,
      tcp,
      network_connections: tcpStates.length === 0 ? null : tcpStates.filter(([st]) => st !== 'listen').reduce((a, [, n]) => a + n, 0),
    },
    health: {
      probes,
      critical_files: ix.all('hostaudit_file_present').map((s) => ({ path: s.labels.path ?? '', present: s.value === 1 })),
    },
    recent_activity: {
      files_modified,
      service_uptime_avg_seconds: uptimes.length === 0 ? null : Math.round(uptimes.reduce((a, u) => a + u, 0) / uptimes.length),
    },
    anomalies: [],
    collectors: ix.all('hostaudit_collector_success').map((s) => ({ collector: s.labels.collector ?? '', success: s.value === 1 })),
    silent_failures: silentFailures(ix, nowSeconds),
  };
}
