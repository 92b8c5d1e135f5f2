// The report's "JSON SUMMARY": a short object in the shape of the audit's own summary
// (system_health.services_running "12/12", web_interface "healthy", …), printed inside the
// markdown report and included in --format=json as `summary`.
import { formatBytes, formatChange, formatPercent, formatThresholdValue } from './format.js';
import type { AuditReport } from './model.js';
import { serviceId } from './service-id.js';
import { THRESHOLDS } from '../monitoring/thresholds.js';

export function summarize(r: AuditReport): Record<string, unknown> {
  const storage: Record<string, string> = {};
  for (const p of r.storage.paths) storage[p.name] = formatBytes(p.bytes);
  if (r.storage.databases.length > 0) storage.databases = formatBytes(r.storage.databases_bytes);

  const services: Record<string, { state: string; restarts_in_sample: number | null; cpu: string; memory: string }> = {};
  for (const s of r.services) {
    services[serviceId(s)] = {
      state: s.state,
      restarts_in_sample: s.restarts_in_sample,
      cpu: formatPercent(s.cpu_percent),
      memory: formatBytes(s.memory_bytes),
    };
  }

  const probes = r.health.probes;
  const failing = probes.filter((p) => !p.success).length;
  const dbs = r.storage.databases;
  const dbOk = dbs.filter((d) => d.ok !== false).length;
  const files = r.health.critical_files;
  const missing = files.filter((f) => !f.present).length;

  const anomalies: Record<string, string> = {};
  for (const a of r.anomalies) {
    const unit = THRESHOLDS[a.threshold].unit;
    anomalies[`${a.threshold} ${a.subject}`] = `${unit === 'boolean' ? a.current : formatThresholdValue(a.value, unit)} (${a.severity})`;
  }

  const recent: Record<string, number> = {};
  for (const m of r.recent_activity.files_modified) recent[`${m.name}_modified_${m.within}`] = m.files;

  const out: Record<string, unknown> = {
    generated_at: r.generated_at,
    host: r.hostname,
    status: r.status,
    storage,
    services,
    system_health: {
      services_running: `${r.supervisor.services_running}/${r.supervisor.services_total}`,
      supervisor: r.supervisor.up ? 'up' : `down_${r.supervisor.failure ?? 'unknown'}`,
      web_interface: probes.length === 0 ? 'not_configured' : failing === 0 ? 'healthy' : `${failing}_of_${probes.length}_failing`,
      database_files: dbs.length === 0 ? 'none' : dbOk === dbs.length ? `${dbs.length}_ok` : `${dbOk}_of_${dbs.length}_ok`,
      network_connections: r.host.network_connections,
      critical_files: files.length === 0 ? 'not_configured' : missing === 0 ? 'all_present' : `${missing}_missing`,
    },
    recent_activity: recent,
    anomalies,
  };
  if (r.baseline) {
    const changes: Record<string, { before: string; after: string; change: string }> = {};
    for (const row of r.baseline.rows) {
      if (row.section !== 'storage' && row.section !== 'processes') continue;
      const f = row.unit === 'bytes' ? formatBytes : row.unit === 'percent' ? formatPercent : (n: number | null) => (n === null ? 'n/a' : String(n));
      changes[row.component] = { before: f(row.baseline), after: f(row.now), change: formatChange(row.baseline, row.now, row.presence) };
    }
    out.comparison = { baseline_generated_at: r.baseline.generated_at, changes };
  }
  return { audit: out };
}
