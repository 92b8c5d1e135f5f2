// Judges a report against src/monitoring/thresholds.ts, the module the alert rules are
// generated from, so the report and the alerts can never disagree about what is anomalous.
// Every title, analysis and recommendation is phrased from this host's figures, names and
// thresholds; the thresholds' own `finding` and `recommendation` texts tell the story of the
// audit they came from and stay in the alert rules and runbooks.
//
// A one-shot audit sees one sample window, so "for" durations are not waited for, and the
// growth predictions need a baseline old enough to measure a rate.
import { GROWTH, PATH_NAMES, THRESHOLDS as BUILTIN_THRESHOLDS, type Severity, type ThresholdKey, type ThresholdSet } from '../monitoring/thresholds.js';
import { hostThresholds, noTuning, serviceThresholds, type Tuning } from '../monitoring/tuning.js';
import { FAILURE_TEXT } from '../sources/supervisor-error.js';
import { formatBytes, formatDurationShort, formatPercent, formatThresholdValue } from './format.js';
import type { Anomaly, AuditReport, ServiceFigure, Status } from './model.js';
import { serviceId } from './service-id.js';
import { supervisorRemedy } from './supervisor-remedy.js';

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
const DOWN_STATES = new Set(['FATAL', 'BACKOFF', 'EXITED']);
const DAY = 86400;

/**
 * A baseline younger than this is compared, but no growth is extrapolated from it: over
 * minutes a log write or a checkpoint looks like a trend (a 14 s gap once predicted 7 days).
 */
export const MIN_BASELINE_AGE_SECONDS = 3600;

interface Words {
  title: string;
  current: string;
  analysis: string;
  recommendation: string;
}

function limitText(T: ThresholdSet, key: ThresholdKey): string {
  const t = T[key];
  return formatThresholdValue(t.value, t.unit);
}

function alertText(T: ThresholdSet, key: ThresholdKey): string {
  const t = T[key];
  return t.for === '0m' ? `the alert ${t.alert} fires at once` : `the alert ${t.alert} fires when it lasts ${t.for}`;
}

function anomaly(T: ThresholdSet, key: ThresholdKey, subject: string, value: number, words: Words, severity: Severity = T[key].severity): Anomaly {
  const t = T[key];
  return { threshold: key, alert: t.alert, severity, subject, value, limit: t.value, ...words };
}

export interface GrowthBasis {
  ageSeconds: number | null;
  extrapolate: boolean;
  /** Why growth was not extrapolated; null when it was, or when there is no baseline. */
  note: string | null;
}

/** Whether the baseline is old enough to extrapolate growth from, and why not. */
export function growthBasis(report: AuditReport, baseline: Partial<AuditReport> | undefined): GrowthBasis {
  if (!baseline) return { ageSeconds: null, extrapolate: false, note: null };
  if (!baseline.generated_at) {
    return { ageSeconds: null, extrapolate: false, note: 'the baseline has no generated_at, so no growth rate can be taken from it' };
  }
  const age = (Date.parse(report.generated_at) - Date.parse(baseline.generated_at)) / 1000;
  if (!Number.isFinite(age) || age <= 0) {
    return { ageSeconds: Number.isFinite(age) ? age : null, extrapolate: false, note: 'the baseline is not older than this report, so no growth rate can be taken from it' };
  }
  if (age < MIN_BASELINE_AGE_SECONDS) {
    return {
      ageSeconds: age,
      extrapolate: false,
      note: `growth not extrapolated: the baseline is ${formatDurationShort(age)} old, and a rate is taken only from a baseline at least ${MIN_BASELINE_AGE_SECONDS / 3600}h old (over a shorter gap one burst of writes looks like a trend)`,
    };
  }
  return { ageSeconds: age, extrapolate: true, note: null };
}

function judgeServices(report: AuditReport, baseline: Partial<AuditReport> | undefined, out: Anomaly[], host: ThresholdSet, tuning: Tuning): void {
  const window = report.cpu_window_seconds ?? report.sample_seconds;
  const key = (s: { group: string; name: string }): string => `${s.group}\u0000${s.name}`;
  const baseServices = new Map((baseline?.services ?? []).map((s) => [key(s), s]));
  for (const s of report.services) {
    // A service is judged by its own thresholds: the host's with its `thresholds.services` entry on top.
    const T = serviceThresholds(tuning, s.group, s.name);
    const flapAt = T.serviceFlapping.value;
    const id = serviceId(s);
    if (DOWN_STATES.has(s.state)) {
      // supervisord's description: why (FATAL, BACKOFF) or when it stopped (EXITED).
      const desc = s.description && !/^pid \d+/.test(s.description) ? s.description : '';
      const why = !desc ? '' : s.state === 'EXITED' ? ` since ${desc}` : `: ${desc}`;
      out.push(
        anomaly(T, 'serviceDown', id, 1, {
          title: `Service ${id} is ${s.state}`,
          current: `state ${s.state}${why}`,
          analysis: `supervisord reports ${id} as ${s.state}${s.state === 'FATAL' ? ', and it will not try to start it again by itself' : ''}; ${alertText(T, 'serviceDown')}.`,
          recommendation: `Read why it stopped (supervisorctl tail ${id} stderr), fix the cause, then supervisorctl start ${id}.`,
        }),
      );
    }
    const n = s.restarts_in_sample;
    if (n !== null && n > 0) {
      const seen = `restarted ${n} ${n === 1 ? 'time' : 'times'} during the ${formatDurationShort(window)} sample`;
      if (n >= flapAt) {
        out.push(
          anomaly(T, 'serviceFlapping', id, n, {
            title: `Service ${id} is flapping`,
            current: `${seen}; state ${s.state} at the end of it`,
            analysis: `${n} restarts within ${formatDurationShort(window)} is at or above the flapping threshold of ${flapAt} (${alertText(T, 'serviceFlapping')} when there are more than ${flapAt} within ${GROWTH.flappingWindow}); a service that is RUNNING between crashes looks healthy at any single moment.`,
            recommendation: `A crash loop: read ${id}'s stderr around each restart (supervisorctl tail ${id} stderr) and check what it depends on; supervisorctl stop ${id} stops the loop while you look.`,
          }),
        );
      } else {
        out.push(
          anomaly(T, 
            'serviceFlapping',
            id,
            n,
            {
              title: `Service ${id} restarted during the sample`,
              current: seen,
              analysis: `Below the flapping threshold of ${flapAt}, but a restart means its previous process ended; the exit status and the log say whether it crashed.`,
              recommendation: `Check why ${id} restarted: supervisorctl tail ${id} stderr, and hostaudit_service_restarts_total on the dashboard for how often it happens.`,
            },
            'info',
          ),
        );
      }
    } else if (s.uptime_seconds !== null && window > 0 && s.uptime_seconds < window) {
      out.push(
        anomaly(T, 
          'serviceFlapping',
          id,
          0,
          {
            title: `Service ${id} started during the sample`,
            current: `uptime ${formatDurationShort(s.uptime_seconds)}, shorter than the ${formatDurationShort(window)} sample`,
            analysis: `${id} has been running for less time than the audit sampled; its CPU is measured over its own lifetime, and it may be restarting.`,
            recommendation: `Look again in a few minutes (or run audit with a longer --sample) to see whether ${id} stays up; hostaudit_service_restarts_total counts its restarts.`,
          },
          'info',
        ),
      );
    }
    if (s.cpu_percent === null) continue;
    const cores = Math.round(s.cpu_percent * 10) / 1000; // percent has one decimal: keep cores exact
    const was = baseServices.get(key(s))?.cpu_percent;
    const current = `${formatPercent(s.cpu_percent)} of a core over ${formatDurationShort(window)}${typeof was === 'number' ? ` (${formatPercent(was)} in the baseline)` : ''}`;
    if (cores > T.serviceCpuSaturated.value) {
      out.push(
        anomaly(T, 'serviceCpuSaturated', id, cores, {
          title: `Service ${id} saturates a core`,
          current,
          analysis: `${id}'s process tree used more than ${limitText(T, 'serviceCpuSaturated')}; ${alertText(T, 'serviceCpuSaturated')}.`,
          recommendation: `Look for a busy loop or a backlog in ${id}: supervisorctl tail ${id} stderr for repeating errors, and the CPU of its processes (top) for the one that spins.`,
        }),
      );
    } else if (cores > T.serviceHighCpu.value) {
      out.push(
        anomaly(T, 'serviceHighCpu', id, cores, {
          title: `High CPU in service ${id}`,
          current,
          analysis: `${id}'s process tree used more than ${limitText(T, 'serviceHighCpu')}; ${alertText(T, 'serviceHighCpu')}.`,
          recommendation: `Watch ${id}'s CPU on the dashboard: if it stays above ${limitText(T, 'serviceHighCpu')} for ${T.serviceHighCpu.for}, profile it or spread its work.`,
        }),
      );
    }
  }
  const T = host;
  const mem = report.processes.services_memory_bytes;
  if (mem > T.serviceMemoryHigh.value) {
    const largest = [...report.services].sort((a, b) => (b.memory_bytes ?? 0) - (a.memory_bytes ?? 0))[0] as ServiceFigure;
    out.push(
      anomaly(T, 'serviceMemoryHigh', 'all services', mem, {
        title: 'Services hold more memory than the threshold',
        current: `${formatBytes(mem)} resident, all ${report.services.length} services together`,
        analysis: `Above ${limitText(T, 'serviceMemoryHigh')}; the largest is ${serviceId(largest)} with ${formatBytes(largest.memory_bytes)}; ${alertText(T, 'serviceMemoryHigh')}.`,
        recommendation: `Start with ${serviceId(largest)}: the memory per service on the dashboard shows whether it keeps growing (a leak) or is steady.`,
      }),
    );
  }
}

function judgeStorage(report: AuditReport, baseline: Partial<AuditReport> | undefined, basis: GrowthBasis, out: Anomaly[], T: ThresholdSet): void {
  const dt = basis.extrapolate ? (basis.ageSeconds as number) : undefined;
  const basePaths = new Map((baseline?.storage?.paths ?? []).map((p) => [p.name, p]));
  const biggestLog = [...report.services].filter((s) => (s.log_bytes ?? 0) > 0).sort((a, b) => (b.log_bytes ?? 0) - (a.log_bytes ?? 0))[0];
  const logHint = biggestLog ? ` The largest service log is ${serviceId(biggestLog)}'s (${formatBytes(biggestLog.log_bytes)}).` : '';
  for (const p of report.storage.paths) {
    if (p.bytes === null) continue;
    const was = basePaths.get(p.name)?.bytes;
    const since = typeof was === 'number' ? ` (${formatBytes(was)} in the baseline)` : '';
    if (p.name === PATH_NAMES.logs && p.bytes > T.logsLarge.value) {
      out.push(
        anomaly(T, 'logsLarge', p.name, p.bytes, {
          title: `Logs path ${p.path} is large`,
          current: `${formatBytes(p.bytes)}${since}`,
          analysis: `Above ${limitText(T, 'logsLarge')}; ${alertText(T, 'logsLarge')}.`,
          recommendation: `Rotate and compress what is in ${p.path}: set stdout_logfile_maxbytes and stdout_logfile_backups for the programs that write there, and compress or delete old files.${logHint}`,
        }),
      );
    }
    if (p.name === PATH_NAMES.logs && dt !== undefined && typeof was === 'number' && p.bytes > was) {
      const predicted = p.bytes + ((p.bytes - was) / dt) * 7 * DAY;
      if (predicted > T.logsGrowth.value) {
        out.push(
          anomaly(T, 'logsGrowth', p.name, predicted, {
            title: `Logs path ${p.path} is growing fast`,
            current: `${formatBytes(p.bytes)}, up from ${formatBytes(was)} ${formatDurationShort(dt)} earlier; at this rate ${formatBytes(predicted)} in 7 days`,
            analysis: `Predicted past ${limitText(T, 'logsGrowth')} within 7 days; ${alertText(T, 'logsGrowth')}.`,
            recommendation: `Set up rotation for the logs in ${p.path} before it passes ${limitText(T, 'logsGrowth')}.${logHint}`,
          }),
        );
      }
    }
    if (p.name === PATH_NAMES.system && p.bytes > T.systemSizeRegression.value) {
      const inside = report.storage.paths.filter((q) => q !== p && q.bytes !== null && q.path.startsWith(p.path + '/'));
      const parts = inside.map((q) => `${q.name} ${formatBytes(q.bytes)}`).join(', ');
      out.push(
        anomaly(T, 'systemSizeRegression', p.name, p.bytes, {
          title: `System path ${p.path} is above its size threshold`,
          current: `${formatBytes(p.bytes)}${since}`,
          analysis: `Above ${limitText(T, 'systemSizeRegression')}${parts ? `; of it: ${parts}` : ''}; ${alertText(T, 'systemSizeRegression')}.`,
          recommendation: `Find what grew under ${p.path} (du -sh ${p.path}/* | sort -h)${inside.length ? ` and start with the largest watched path inside it` : ''}.`,
        }),
      );
    }
  }

  const baseDbs = new Map((baseline?.storage?.databases ?? []).map((d) => [d.path, d]));
  for (const d of report.storage.databases) {
    if (d.ok === false) {
      out.push(
        anomaly(T, 'databaseUnreadable', d.path, 0, {
          title: `Database ${d.database} is unreadable`,
          current: `${d.path} is not a readable SQLite database`,
          analysis: `The exporter could not read its header or schema; ${alertText(T, 'databaseUnreadable')}.`,
          recommendation: `Check it with sqlite3 ${d.path} "PRAGMA quick_check" and restore it from a backup if it is corrupt.`,
        }),
      );
    }
    if (d.wal_bytes !== null && d.wal_bytes > T.sqliteWalLarge.value) {
      out.push(
        anomaly(T, 'sqliteWalLarge', `${d.path}-wal`, d.wal_bytes, {
          title: `WAL of database ${d.database} is large`,
          current: `${formatBytes(d.wal_bytes)} of WAL beside ${formatBytes(d.main_bytes)} of database`,
          analysis: `Above ${limitText(T, 'sqliteWalLarge')}: checkpoints are not keeping up, usually because a reader holds a transaction open; ${alertText(T, 'sqliteWalLarge')}.`,
          recommendation: `Find the long-lived reader of ${d.path} (fuser ${d.path}) and end its transaction; then PRAGMA wal_checkpoint(TRUNCATE) from the service that owns it.`,
        }),
      );
    }
    const was = baseDbs.get(d.path)?.main_bytes;
    if (dt !== undefined && typeof was === 'number' && d.main_bytes !== null && d.main_bytes > was && d.main_bytes > 0) {
      const predicted = d.main_bytes + ((d.main_bytes - was) / dt) * 30 * DAY;
      const ratio = predicted / d.main_bytes;
      if (ratio >= T.databaseGrowth.value) {
        out.push(
          anomaly(T, 'databaseGrowth', d.path, ratio, {
            title: `Database ${d.database} is growing fast`,
            current: `${formatBytes(d.main_bytes)}, up from ${formatBytes(was)} ${formatDurationShort(dt)} earlier; at this rate ${formatBytes(predicted)} in 30 days`,
            analysis: `Predicted to grow ${formatThresholdValue(ratio, 'ratio')} within 30 days (threshold ${limitText(T, 'databaseGrowth')}); ${alertText(T, 'databaseGrowth')}.`,
            recommendation: `Decide how long ${d.database}'s rows must be kept, and archive or delete older ones (then VACUUM) before ${d.path} fills its disk.`,
          }),
        );
      }
    }
  }
}

function judgeHealth(report: AuditReport, out: Anomaly[], T: ThresholdSet): void {
  if (!report.supervisor.up) {
    const url = report.supervisor.url ?? 'its socket';
    const failure = report.supervisor.failure;
    out.push(
      anomaly(T, 'supervisorDown', 'supervisord', 0, {
        title: failure ? `supervisord could not be read: ${failure}` : 'supervisord could not be read',
        current: `${url}: ${failure ? FAILURE_TEXT[failure] : 'no answer'}${report.supervisor.error ? ` (${report.supervisor.error})` : ''}`,
        analysis: `No service state, CPU or memory is known while supervisord cannot be read; ${alertText(T, 'supervisorDown')}.`,
        recommendation: supervisorRemedy(failure, url),
      }),
    );
  }
  for (const p of report.health.probes) {
    if (p.success) continue;
    const code = p.status_code ? `HTTP ${p.status_code}` : 'no answer';
    out.push(
      anomaly(T, 'webInterfaceDown', p.probe, 0, {
        title: `Probe ${p.probe} fails`,
        current: `${p.url}: ${code}`,
        analysis: `${p.status_code ? 'The server answered, but not with success' : 'Nothing answered within the probe timeout'}; ${alertText(T, 'webInterfaceDown')}.`,
        recommendation: `Check the service listening at ${p.url} and its log; curl -v ${p.url} from the host shows what it answers.`,
      }),
    );
  }
  for (const f of report.health.critical_files) {
    if (f.present) continue;
    out.push(
      anomaly(T, 'criticalFileMissing', f.path, 0, {
        title: `Critical file ${f.path} is missing`,
        current: `${f.path} is missing or unreadable`,
        analysis: `It is listed in critical_files; ${alertText(T, 'criticalFileMissing')}.`,
        recommendation: `Restore ${f.path} from version control or a backup, or fix its permissions (ls -l ${f.path}).`,
      }),
    );
  }
  for (const c of report.collectors) {
    if (c.success) continue;
    out.push(
      anomaly(T, 'collectorFailing', c.collector, 0, {
        title: `Collector ${c.collector} failed`,
        current: `collector ${c.collector} failed`,
        analysis: `Its figures are missing from this report; ${alertText(T, 'collectorFailing')}.`,
        recommendation: `Read the exporter's log line "collector failed" with collector=${c.collector}: it names the error (permissions, a missing socket, a timeout).`,
      }),
    );
  }
}

/** The quiet failures: stale databases and logs, a full disk, deleted files held open. */
function judgeSilent(report: AuditReport, out: Anomaly[], T: ThresholdSet): void {
  const sf = report.silent_failures;
  if (!sf) return;
  for (const d of sf.databases) {
    if (d.expected_within_seconds === null || d.last_write_age_seconds <= d.expected_within_seconds) continue;
    out.push(
      anomaly(T, 'databaseStale', d.path, d.last_write_age_seconds, {
        title: `Database ${d.database} is not being written`,
        current: `last written ${formatDurationShort(d.last_write_age_seconds)} ago (main file and WAL)`,
        analysis: `${d.path} is expected to be written within ${formatDurationShort(d.expected_within_seconds)} (expect_write_within); ${alertText(T, 'databaseStale')}.`,
        recommendation: `Check the service that writes ${d.database}: it may be RUNNING but stuck (its log, its upstream feed).`,
      }),
    );
  }
  const running = new Map(report.services.map((s) => [`${s.group}\u0000${s.name}`, s.state === 'RUNNING']));
  for (const l of sf.service_logs) {
    const id = serviceId(l);
    if (l.expected_within_seconds === null || l.last_write_age_seconds <= l.expected_within_seconds) continue;
    if (!running.get(`${l.group}\u0000${l.name}`)) continue;
    out.push(
      anomaly(T, 'serviceSilent', id, l.last_write_age_seconds, {
        title: `Service ${id} is RUNNING but silent`,
        current: `its log was last written ${formatDurationShort(l.last_write_age_seconds)} ago`,
        analysis: `${id} is expected to write its log within ${formatDurationShort(l.expected_within_seconds)} (expect_log_write_within); ${alertText(T, 'serviceSilent')}.`,
        recommendation: `Look at what ${id} is waiting for (py-spy dump, strace -p, its upstream); restart it with supervisorctl restart ${id} if it is stuck.`,
      }),
    );
  }
  for (const f of sf.filesystems) {
    if (f.avail_ratio === null || f.avail_ratio >= T.diskAlmostFull.value) continue;
    out.push(
      anomaly(T, 'diskAlmostFull', f.mountpoint, f.avail_ratio, {
        title: `Filesystem ${f.mountpoint} is almost full`,
        current: `${formatBytes(f.avail_bytes)} left of ${formatBytes(f.size_bytes)} (${formatPercent(f.avail_ratio * 100)})`,
        analysis: `Less than ${formatPercent(T.diskAlmostFull.value * 100)} left on ${f.mountpoint} (${f.device}, ${f.fstype}); ${alertText(T, 'diskAlmostFull')}.`,
        recommendation: `Find what grew on ${f.mountpoint} (du -xsh ${f.mountpoint}/* | sort -h), and the deleted files services still hold open.`,
      }),
    );
  }
  for (const d of sf.deleted_open) {
    if (d.bytes <= T.deletedFilesHeld.value) continue;
    const id = serviceId(d);
    out.push(
      anomaly(T, 'deletedFilesHeld', id, d.bytes, {
        title: `Service ${id} holds deleted files open`,
        current: `${formatBytes(d.bytes)} of deleted files still open`,
        analysis: `That disk is not freed until ${id} closes them (a log deleted or compressed while it writes); above ${limitText(T, 'deletedFilesHeld')}; ${alertText(T, 'deletedFilesHeld')}.`,
        recommendation: `ls -l /proc/PID/fd | grep deleted for ${id}'s processes shows the files; restart ${id} (supervisorctl restart ${id}) or have it reopen its logs.`,
      }),
    );
  }
}

/** Judges with the config's `thresholds:` (tuning): the same numbers the generated rules use. */
export function judge(report: AuditReport, baseline?: Partial<AuditReport>, tuning: Tuning = noTuning()): Anomaly[] {
  const host = hostThresholds(tuning);
  const out: Anomaly[] = [];
  judgeHealth(report, out, host);
  judgeServices(report, baseline, out, host, tuning);
  judgeStorage(report, baseline, growthBasis(report, baseline), out, host);
  judgeSilent(report, out, host);
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
