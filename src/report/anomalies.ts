// Judges a report against src/monitoring/thresholds.ts, the module the alert rules are
// generated from, so the report and the alerts can never disagree about what is anomalous.
//
// A one-shot audit sees one moment, so "for" durations are not waited for, and the growth
// predictions need an earlier report (--baseline) to measure a rate. Flapping (restarts
// within 15 minutes) needs a history a single run does not have and is left to the alert.
import { PATH_NAMES, THRESHOLDS as BUILTIN_THRESHOLDS, type Severity, type Threshold, type ThresholdKey } from '../monitoring/thresholds.js';
import { hostThresholds, noTuning, serviceThresholds, type Tuning } from '../monitoring/tuning.js';
import { formatBytes, formatDurationShort, formatPercent, formatThresholdValue } from './format.js';
import type { Anomaly, AuditReport, Status } from './model.js';

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
const DOWN_STATES = new Set(['FATAL', 'BACKOFF', 'EXITED']);
const DAY = 86400;

function thresholdAnomaly(t: Threshold, key: ThresholdKey, subject: string, value: number, current: string): Anomaly {
  return {
    threshold: key,
    alert: t.alert,
    severity: t.severity,
    subject,
    value,
    limit: t.value,
    current,
    analysis: `${t.summary}${t.unit === 'boolean' ? '' : ` (limit ${formatThresholdValue(t.value, t.unit)})`}; the alert ${t.alert} fires when it lasts ${t.for}. Audit finding: ${t.finding}.`,
    recommendation: t.recommendation,
  };
}

/** Seconds between the baseline and now, when both carry a time and now is later. */
function secondsSinceBaseline(report: AuditReport, baseline: Partial<AuditReport> | undefined): number | undefined {
  if (!baseline?.generated_at) return undefined;
  const dt = (Date.parse(report.generated_at) - Date.parse(baseline.generated_at)) / 1000;
  return Number.isFinite(dt) && dt > 0 ? dt : undefined;
}

/** Judges with the config's `thresholds:` (tuning): the same numbers the generated rules use. */
export function judge(report: AuditReport, baseline?: Partial<AuditReport>, tuning: Tuning = noTuning()): Anomaly[] {
  const THRESHOLDS = hostThresholds(tuning);
  const anomaly = (key: ThresholdKey, subject: string, value: number, current: string, t: Threshold = THRESHOLDS[key]): Anomaly =>
    thresholdAnomaly(t, key, subject, value, current);
  const out: Anomaly[] = [];
  const baseServices = new Map((baseline?.services ?? []).map((s) => [`${s.group}:${s.name}`, s]));

  if (!report.supervisor.up) {
    out.push(anomaly('supervisorDown', 'supervisord', 0, `supervisord did not answer at ${report.supervisor.url ?? 'its socket'}`));
  }
  for (const s of report.services) {
    const id = `${s.group}:${s.name}`;
    if (DOWN_STATES.has(s.state)) out.push(anomaly('serviceDown', id, 1, `state ${s.state}`));
    if (s.cpu_percent === null) continue;
    const cores = Math.round(s.cpu_percent * 10) / 1000; // percent has one decimal: keep cores exact
    const was = baseServices.get(id)?.cpu_percent;
    const current = `${formatPercent(s.cpu_percent)} of a core${typeof was === 'number' ? ` (${formatPercent(was)} in the baseline)` : ''}`;
    const own = serviceThresholds(tuning, s.group, s.name);
    if (cores > own.serviceCpuSaturated.value) out.push(anomaly('serviceCpuSaturated', id, cores, current, own.serviceCpuSaturated));
    else if (cores > own.serviceHighCpu.value) out.push(anomaly('serviceHighCpu', id, cores, current, own.serviceHighCpu));
  }
  const mem = report.processes.services_memory_bytes;
  if (mem > THRESHOLDS.serviceMemoryHigh.value) {
    out.push(anomaly('serviceMemoryHigh', 'all services', mem, `${formatBytes(mem)} resident, all services together`));
  }

  // The alerts predict over 6 h of samples; a baseline is one earlier point at any age, so the
  // report says how old it is and the reader weighs a prediction from a short gap.
  const dt = secondsSinceBaseline(report, baseline);
  const basePaths = new Map((baseline?.storage?.paths ?? []).map((p) => [p.name, p]));
  for (const p of report.storage.paths) {
    if (p.bytes === null) continue;
    const was = basePaths.get(p.name)?.bytes;
    const since = typeof was === 'number' ? ` (${formatBytes(was)} in the baseline)` : '';
    if (p.name === PATH_NAMES.logs && p.bytes > THRESHOLDS.logsLarge.value) {
      out.push(anomaly('logsLarge', p.name, p.bytes, `${formatBytes(p.bytes)}${since}`));
    }
    if (p.name === PATH_NAMES.logs && dt !== undefined && typeof was === 'number' && p.bytes > was) {
      const predicted = p.bytes + ((p.bytes - was) / dt) * 7 * DAY;
      if (predicted > THRESHOLDS.logsGrowth.value) {
        out.push(anomaly('logsGrowth', p.name, predicted, `${formatBytes(p.bytes)}, up from ${formatBytes(was)} ${formatDurationShort(dt)} earlier; at this rate ${formatBytes(predicted)} in 7 days`));
      }
    }
    if (p.name === PATH_NAMES.system && p.bytes > THRESHOLDS.systemSizeRegression.value) {
      out.push(anomaly('systemSizeRegression', p.name, p.bytes, `${formatBytes(p.bytes)}${since}`));
    }
  }

  const baseDbs = new Map((baseline?.storage?.databases ?? []).map((d) => [d.path, d]));
  for (const d of report.storage.databases) {
    if (d.ok === false) out.push(anomaly('databaseUnreadable', d.path, 0, `${d.path} is not a readable SQLite database`));
    if (d.wal_bytes !== null && d.wal_bytes > THRESHOLDS.sqliteWalLarge.value) {
      out.push(anomaly('sqliteWalLarge', `${d.path}-wal`, d.wal_bytes, `WAL of ${d.database}: ${formatBytes(d.wal_bytes)}`));
    }
    const was = baseDbs.get(d.path)?.main_bytes;
    if (dt !== undefined && typeof was === 'number' && d.main_bytes !== null && d.main_bytes > was && d.main_bytes > 0) {
      const predicted = d.main_bytes + ((d.main_bytes - was) / dt) * 30 * DAY;
      const ratio = predicted / d.main_bytes;
      if (ratio >= THRESHOLDS.databaseGrowth.value) {
        out.push(anomaly('databaseGrowth', d.path, ratio, `${d.database}: ${formatBytes(d.main_bytes)}, up from ${formatBytes(was)} ${formatDurationShort(dt)} earlier; at this rate ${formatBytes(predicted)} in 30 days`));
      }
    }
  }

  for (const p of report.health.probes) {
    if (!p.success) {
      const code = p.status_code ? `HTTP ${p.status_code}` : 'no answer';
      out.push(anomaly('webInterfaceDown', p.probe, 0, `${p.url}: ${code}`));
    }
  }
  for (const f of report.health.critical_files) {
    if (!f.present) out.push(anomaly('criticalFileMissing', f.path, 0, `${f.path} is missing or unreadable`));
  }
  for (const c of report.collectors) {
    if (!c.success) out.push(anomaly('collectorFailing', c.collector, 0, `collector ${c.collector} failed (the exporter's log says why)`));
  }

  const order = Object.keys(BUILTIN_THRESHOLDS);
  return out.sort(
    (a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || order.indexOf(a.threshold) - order.indexOf(b.threshold),
  );
}

export function overallStatus(anomalies: readonly Anomaly[]): Status {
  let worst: Status = 'healthy';
  for (const a of anomalies) {
    if (worst === 'healthy' || SEVERITY_RANK[a.severity] > SEVERITY_RANK[worst as Severity]) worst = a.severity;
  }
  return worst;
}

/** Exit code 1 when anything at warning or above was found, for cron and CI. */
export function hasWarningOrAbove(anomalies: readonly Anomaly[]): boolean {
  return anomalies.some((a) => SEVERITY_RANK[a.severity] >= SEVERITY_RANK.warning);
}
