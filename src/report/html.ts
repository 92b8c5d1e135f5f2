// The audit report as one self-contained HTML page: `audit --format=html` and the live
// GET /audit render the same model through this one function. Inline CSS and SVG only: no
// script, no font, no image from anywhere (a CSP meta tag says so to the browser too), readable
// with JavaScript off. Every string from the host passes through escapeHtml.
import { GiB, THRESHOLDS, type Severity } from '../monitoring/thresholds.js';
import { FAILURE_TEXT } from '../sources/supervisor-error.js';
import { formatBytes, formatChange, formatDurationShort, formatLimitBytes, formatPercent, formatThresholdValue } from './format.js';
import { bar, toneOf, type Tone } from './html-bars.js';
import { escapeHtml as e } from './html-escape.js';
import type { Anomaly, AuditReport, ComparisonRow, Status } from './model.js';
import { serviceId } from './service-id.js';

export interface HtmlOptions {
  /** The live page: says where its figures come from and reloads itself (a meta refresh, not a script). */
  live?: { refreshSeconds: number; collectedAgoSeconds: number | null };
}

const STATUS_LABEL: Record<Status, string> = {
  healthy: 'Healthy',
  info: 'Healthy, with observations',
  warning: 'Warning',
  critical: 'Critical',
};

const SEVERITY_LABEL: Record<Severity, string> = { critical: 'critical', warning: 'warning', info: 'observation' };

const CSS = `
:root{--ok:#1a7f37;--warn:#b35900;--crit:#c62828;--info:#1f5fa8;--muted:#5b6470;--line:#d8dee4;--bg:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1f2328;background:#fff}
main,header .inner,footer{max-width:1180px;margin:0 auto;padding:0 20px}
header{color:#fff;padding:18px 0 16px}
header.healthy{background:var(--ok)}header.info{background:var(--info)}header.warning{background:var(--warn)}header.critical{background:var(--crit)}
header h1{margin:0;font-size:22px;font-weight:600}
header .status{font-size:18px;font-weight:600;margin:6px 0 2px}
header p{margin:2px 0;opacity:.95}
h2{font-size:17px;margin:26px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:middle}
th{font-weight:600;color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.03em}
td.num,th.num{text-align:right;white-space:nowrap}
td.name{font-weight:600;overflow-wrap:anywhere}
td.path,.path{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;overflow-wrap:anywhere}
.barcell{white-space:nowrap}.barcell span{display:inline-block;min-width:64px;margin-left:6px}
svg.bar{vertical-align:middle}
svg.bar .track{fill:#eaeef2}svg.bar .fill.ok{fill:#4c9f6a}svg.bar .fill.warn{fill:#e08a1e}svg.bar .fill.crit{fill:#d64545}svg.bar .fill.neutral{fill:#8c96a3}
svg.bar .mark{stroke-width:2}svg.bar .mark.warn{stroke:#b35900}svg.bar .mark.crit{stroke:#8e1b1b}svg.bar .mark.ok,svg.bar .mark.neutral{stroke:#57606a}
.state{display:inline-block;padding:1px 7px;border-radius:10px;font-size:12px;font-weight:600;background:#eaeef2}
.state.RUNNING{background:#dafbe1;color:#116329}.state.FATAL,.state.BACKOFF,.state.EXITED{background:#ffebe9;color:#a40e26}.state.STARTING,.state.STOPPING{background:#fff8c5;color:#7d4e00}
.restarts.some{color:var(--warn);font-weight:600}.restarts.many{color:var(--crit);font-weight:700}
.anomaly{border:1px solid var(--line);border-left:6px solid var(--muted);border-radius:6px;padding:10px 14px;margin:10px 0;background:#fff}
.anomaly.critical{border-left-color:var(--crit)}.anomaly.warning{border-left-color:var(--warn)}.anomaly.info{border-left-color:var(--info)}
.anomaly h3{margin:0 0 6px;font-size:15px;overflow-wrap:anywhere}
.anomaly dl{display:grid;grid-template-columns:120px 1fr;gap:3px 12px;margin:0}
.anomaly dt{color:var(--muted)}.anomaly dd{margin:0;overflow-wrap:anywhere}
.badge{display:inline-block;font-size:11px;font-weight:700;text-transform:uppercase;padding:1px 6px;border-radius:4px;margin-right:6px;color:#fff;vertical-align:1px}
.badge.critical{background:var(--crit)}.badge.warning{background:var(--warn)}.badge.info{background:var(--info)}
.alertname{color:var(--muted);font-size:12px;margin-top:4px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:10px}
.card{border:1px solid var(--line);border-radius:6px;padding:10px 12px;background:var(--bg)}
.card h3{margin:0 0 4px;font-size:13px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.03em}
.card .v{font-size:16px;font-weight:600}.card .v.ok{color:var(--ok)}.card .v.warn{color:var(--warn)}.card .v.crit{color:var(--crit)}.card .v.neutral{color:var(--muted)}
.card p{margin:3px 0 0;overflow-wrap:anywhere}
.note{color:var(--muted);margin:4px 0 8px}
.legend{color:var(--muted);font-size:12px;margin:6px 0 0}
.chg-up{color:var(--warn)}.chg-down{color:var(--ok)}
footer{color:var(--muted);font-size:12px;margin-top:28px;padding-top:10px;padding-bottom:24px;border-top:1px solid var(--line)}
`;

function stateBadge(state: string): string {
  return `<span class="state ${/^[A-Z]+$/.test(state) ? state : ''}">${e(state)}</span>`;
}

function banner(r: AuditReport, opts: HtmlOptions): string {
  const count = (s: Severity): number => r.anomalies.filter((a) => a.severity === s).length;
  const sv = r.supervisor;
  const services = sv.up
    ? `${sv.services_running} of ${sv.services_total} services running`
    : `supervisord could not be read${sv.failure ? ` (${sv.failure})` : ''}`;
  const when = r.generated_at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const window =
    r.cpu_window_seconds !== null
      ? `CPU over ${formatDurationShort(r.cpu_window_seconds)}`
      : opts.live
        ? 'CPU needs two collections: reload in a few seconds'
        : 'CPU not sampled';
  const live = opts.live
    ? `<p>Live: from the exporter's last collection${opts.live.collectedAgoSeconds === null ? '' : `, ${formatDurationShort(opts.live.collectedAgoSeconds)} ago`}; this page reloads every ${opts.live.refreshSeconds}s.</p>`
    : '';
  return `<header class="${r.status}" id="status"><div class="inner">
<h1>Host audit: ${e(r.hostname)}</h1>
<p class="status" data-status="${r.status}">${STATUS_LABEL[r.status]}: ${count('critical')} critical, ${count('warning')} warning, ${count('info')} ${count('info') === 1 ? 'observation' : 'observations'}</p>
<p>${e(services)} · ${e(when)} · ${window} · hostaudit-exporter ${e(r.exporter_version)}</p>
${live}</div></header>`;
}

function anomalyCard(a: Anomaly): string {
  return `<article class="anomaly ${a.severity}" data-threshold="${e(a.threshold)}" data-subject="${e(a.subject)}">
<h3><span class="badge ${a.severity}">${SEVERITY_LABEL[a.severity]}</span>${e(a.title)}</h3>
<dl><dt>Now</dt><dd>${e(a.current)}</dd><dt>Analysis</dt><dd>${e(a.analysis)}</dd><dt>Recommendation</dt><dd>${e(a.recommendation)}</dd></dl>
<p class="alertname">Alert ${e(a.alert)} · threshold ${e(a.threshold)}</p>
</article>`;
}

function anomaliesSection(r: AuditReport): string {
  const body =
    r.anomalies.length === 0
      ? '<p class="note">No anomalies: every figure is within the thresholds the alert rules use.</p>'
      : r.anomalies.map(anomalyCard).join('\n');
  return `<section id="anomalies"><h2>Anomalies and observations</h2>\n${body}\n</section>`;
}

function cpuScale(r: AuditReport): number {
  const top = Math.max(0, ...r.services.map((s) => s.cpu_percent ?? 0));
  return Math.max(100, Math.ceil(top / 100) * 100);
}

function servicesSection(r: AuditReport): string {
  if (r.services.length === 0) {
    const why = r.supervisor.up ? 'supervisord has no programs.' : 'supervisord could not be read: no service figures.';
    return `<section id="services"><h2>Services</h2><p class="note">${why}</p></section>`;
  }
  const warnCpu = THRESHOLDS.serviceHighCpu.value * 100;
  const critCpu = THRESHOLDS.serviceCpuSaturated.value * 100;
  const memLimit = THRESHOLDS.serviceMemoryHigh.value;
  const scale = cpuScale(r);
  const memScale = Math.max(memLimit, r.processes.services_memory_bytes);
  const flap = THRESHOLDS.serviceFlapping.value;
  const rows = r.services.map((s) => {
    const id = serviceId(s);
    const cpu = bar({
      value: s.cpu_percent,
      max: scale,
      marks: [
        { at: warnCpu, tone: 'warn' },
        { at: critCpu, tone: 'crit' },
      ],
      tone: toneOf(s.cpu_percent, warnCpu, critCpu),
      label: `${id} CPU ${formatPercent(s.cpu_percent)} of a core; thresholds ${formatPercent(warnCpu)} and ${formatPercent(critCpu)}`,
    });
    const mem = bar({
      value: s.memory_bytes,
      max: memScale,
      marks: [{ at: memLimit, tone: 'warn' }],
      tone: s.memory_bytes === null ? 'neutral' : r.processes.services_memory_bytes > memLimit ? 'warn' : 'ok',
      label: `${id} memory ${formatBytes(s.memory_bytes)} resident, against the ${formatLimitBytes(memLimit)} threshold for all services together`,
    });
    const n = s.restarts_in_sample;
    const restartClass = n === null || n === 0 ? 'restarts' : n >= flap ? 'restarts many' : 'restarts some';
    return `<tr data-service="${e(id)}"><td class="name">${e(id)}</td><td>${stateBadge(s.state)}</td>
<td class="barcell">${cpu}<span>${formatPercent(s.cpu_percent)}</span></td>
<td class="barcell">${mem}<span>${formatBytes(s.memory_bytes)}</span></td>
<td class="num ${restartClass}">${n === null ? 'n/a' : n}</td><td class="num">${formatDurationShort(s.uptime_seconds)}</td>
<td class="num">${s.processes ?? 'n/a'}</td><td class="num">${formatBytes(s.log_bytes)}</td></tr>`;
  });
  const total = bar({
    value: r.processes.services_memory_bytes,
    max: memScale,
    marks: [{ at: memLimit, tone: 'warn' }],
    tone: r.processes.services_memory_bytes > memLimit ? 'warn' : 'ok',
    label: `all services ${formatBytes(r.processes.services_memory_bytes)} resident; threshold ${formatLimitBytes(memLimit)}`,
  });
  return `<section id="services"><h2>Services</h2>
<table><thead><tr><th>Service</th><th>State</th><th>CPU (of one core)</th><th>Memory (RSS)</th><th class="num">Restarts in sample</th><th class="num">Uptime</th><th class="num">Processes</th><th class="num">Logs</th></tr></thead>
<tbody>
${rows.join('\n')}
<tr class="total"><td class="name">All services</td><td></td><td></td><td class="barcell">${total}<span>${formatBytes(r.processes.services_memory_bytes)}</span></td><td></td><td></td><td></td><td></td></tr>
</tbody></table>
<p class="legend">CPU is each service's whole process tree over the sample, on a scale of ${formatPercent(scale)}; the marks are the ${formatPercent(warnCpu)} warning and ${formatPercent(critCpu)} critical thresholds. Memory is on a scale of ${formatLimitBytes(memScale)}, marked at the ${formatLimitBytes(memLimit)} threshold for all services together. Restarts: ${flap} or more in the sample is flapping.</p>
</section>`;
}

function card(title: string, value: string, tone: Tone, detail: string): string {
  return `<div class="card"><h3>${e(title)}</h3><div class="v ${tone}">${e(value)}</div><p>${e(detail)}</p></div>`;
}

function healthSection(r: AuditReport): string {
  const cards: string[] = [];
  const sv = r.supervisor;
  const restarted = r.services.filter((s) => (s.restarts_in_sample ?? 0) > 0);
  if (!sv.up) {
    cards.push(card('Supervisor', sv.failure ? `Not read: ${sv.failure}` : 'Not read', 'crit', `${sv.url ?? 'supervisord'}: ${sv.failure ? FAILURE_TEXT[sv.failure] : 'no answer'}`));
  } else {
    const down = sv.services_total - sv.services_running;
    const value = down > 0 ? `${down} not running` : restarted.length > 0 ? `${restarted.length} restarted` : 'All running';
    const detail = `${sv.services_running}/${sv.services_total} services running${restarted.length > 0 ? `; restarted during the sample: ${restarted.map((s) => `${serviceId(s)} ×${s.restarts_in_sample}`).join(', ')}` : ''}; supervisord ${sv.version ?? ''}`;
    cards.push(card('Supervisor', value, down > 0 ? 'crit' : restarted.length > 0 ? 'warn' : 'ok', detail));
  }
  for (const p of r.health.probes) {
    const answer = p.status_code ? `HTTP ${p.status_code}` : 'no answer';
    const took = p.duration_seconds === null ? '' : ` in ${p.duration_seconds.toFixed(3)}s`;
    cards.push(card(`Probe ${p.probe}`, p.success ? 'Healthy' : 'Down', p.success ? 'ok' : 'crit', `${answer}${took}: ${p.url}`));
  }
  if (r.health.probes.length === 0) cards.push(card('Probes', 'Not configured', 'neutral', 'no probes in the config'));
  const dbs = r.storage.databases;
  const bad = dbs.filter((d) => d.ok === false);
  cards.push(
    card(
      'Databases',
      dbs.length === 0 ? 'None' : bad.length === 0 ? 'Readable' : `${bad.length} unreadable`,
      dbs.length === 0 ? 'neutral' : bad.length === 0 ? 'ok' : 'crit',
      dbs.length === 0 ? 'no databases configured or found' : `${dbs.length} SQLite ${dbs.length === 1 ? 'file' : 'files'}, ${formatBytes(r.storage.databases_bytes)}`,
    ),
  );
  const n = r.host.network_connections;
  cards.push(
    card(
      'Network connections',
      n === null ? 'Unknown' : String(n),
      'neutral',
      n === null
        ? 'TCP tables not readable'
        : Object.entries(r.host.tcp)
            .filter(([st, c]) => st !== 'listen' && c > 0)
            .sort((a, b) => b[1] - a[1])
            .map(([st, c]) => `${c} ${st}`)
            .join(', ') || 'none open',
    ),
  );
  const files = r.health.critical_files;
  const missing = files.filter((f) => !f.present);
  cards.push(
    card(
      'Critical files',
      files.length === 0 ? 'Not configured' : missing.length === 0 ? 'All present' : `${missing.length} missing`,
      files.length === 0 ? 'neutral' : missing.length === 0 ? 'ok' : 'crit',
      files.length === 0 ? 'no critical_files in the config' : missing.length === 0 ? `${files.length} files present` : `missing or unreadable: ${missing.map((f) => f.path).join(', ')}`,
    ),
  );
  const m = r.host.memory;
  if (m) cards.push(card('Host memory', `${formatBytes(m.used_bytes)} used`, 'neutral', `of ${formatBytes(m.total_bytes)}; ${formatBytes(m.available_bytes)} available`));
  return `<section id="health"><h2>Health indicators</h2><div class="grid">\n${cards.join('\n')}\n</div></section>`;
}

/** The threshold a path is judged by (logs and system), for its bar's mark. */
function pathLimit(name: string): { value: number; tone: Tone } | undefined {
  if (name === 'logs') return { value: THRESHOLDS.logsLarge.value, tone: 'warn' };
  if (name === 'system') return { value: THRESHOLDS.systemSizeRegression.value, tone: 'warn' };
  return undefined;
}

/** Says which bars carry a threshold mark: only those of the paths this host has. */
function pathLegend(names: readonly string[]): string {
  const marked = [...new Set(names)].flatMap((n) => {
    const l = pathLimit(n);
    return l ? [`${n} at ${formatThresholdValue(l.value, 'bytes')}`] : [];
  });
  return `Sizes as du -sb measures them.${marked.length ? ` Marked at their alerts' thresholds: ${marked.join(', ')}.` : ''}`;
}

function storageSection(r: AuditReport): string {
  const paths = r.storage.paths;
  const largest = Math.max(1, ...paths.map((p) => p.bytes ?? 0));
  const pathRows = paths.map((p) => {
    const limit = pathLimit(p.name);
    const max = limit ? Math.max(limit.value, p.bytes ?? 0) : Math.max(largest, GiB);
    const b = bar({
      value: p.bytes,
      max,
      marks: limit ? [{ at: limit.value, tone: limit.tone }] : [],
      tone: limit ? toneOf(p.bytes, limit.value) : 'neutral',
      label: `${p.name} ${formatBytes(p.bytes)}${limit ? `; threshold ${formatLimitBytes(limit.value)}` : ''}`,
    });
    const modified = Object.entries(p.files_modified).map(([w, n]) => `${n} in ${w}`).join(', ');
    return `<tr data-path="${e(p.name)}"><td class="name">${e(p.name)}</td><td class="path">${e(p.path)}</td><td class="barcell">${b}<span>${formatBytes(p.bytes)}</span></td><td class="num">${p.files ?? 'n/a'}</td><td>${e(modified || '—')}</td><td class="num">${p.scan_errors ?? 'n/a'}</td></tr>`;
  });
  const walLimit = THRESHOLDS.sqliteWalLarge.value;
  const dbRows = r.storage.databases.map((d) => {
    const wal = bar({
      value: d.wal_bytes ?? 0,
      max: Math.max(walLimit, d.wal_bytes ?? 0),
      marks: [{ at: walLimit, tone: 'warn' }],
      tone: toneOf(d.wal_bytes, walLimit),
      label: `${d.database} WAL ${d.wal_bytes === null ? 'absent' : formatBytes(d.wal_bytes)}; threshold ${formatLimitBytes(walLimit)}`,
    });
    const ok = d.ok === null ? 'unknown' : d.ok ? 'readable' : 'UNREADABLE';
    return `<tr data-database="${e(d.path)}"><td class="name">${e(d.database)}</td><td class="path">${e(d.path)}</td><td class="num">${formatBytes(d.main_bytes)}</td><td class="barcell">${wal}<span>${d.wal_bytes === null ? 'none' : formatBytes(d.wal_bytes)}</span></td><td class="num">${d.tables ?? 'n/a'} / ${d.indexes ?? 'n/a'}</td><td>${ok}</td></tr>`;
  });
  const pathsTable =
    paths.length === 0
      ? '<p class="note">No paths configured.</p>'
      : `<table><thead><tr><th>Path</th><th>Directory</th><th>Size</th><th class="num">Files</th><th>Modified</th><th class="num">Scan errors</th></tr></thead><tbody>\n${pathRows.join('\n')}\n</tbody></table>
<p class="legend">${e(pathLegend(paths.map((p) => p.name)))}</p>`;
  const dbTable =
    dbRows.length === 0
      ? '<p class="note">No databases configured or found.</p>'
      : `<table><thead><tr><th>Database</th><th>File</th><th class="num">Main</th><th>WAL (threshold ${formatLimitBytes(walLimit)})</th><th class="num">Tables / indexes</th><th>State</th></tr></thead><tbody>\n${dbRows.join('\n')}\n</tbody></table>`;
  return `<section id="storage"><h2>Storage</h2>\n${pathsTable}\n<h2>Databases</h2>\n${dbTable}\n</section>`;
}

function fmt(row: ComparisonRow, v: number | null): string {
  if (row.unit === 'bytes') return formatBytes(v);
  if (row.unit === 'percent') return formatPercent(v);
  return v === null ? 'n/a' : String(v);
}

const SECTION_TITLE: Record<ComparisonRow['section'], string> = {
  storage: 'Storage',
  processes: 'Processes',
  services: 'Services',
  databases: 'Databases',
};

function baselineSection(r: AuditReport): string {
  const b = r.baseline;
  if (!b) return '';
  const when = b.generated_at ? `${b.generated_at}, ${formatDurationShort(b.age_seconds)} before this report` : 'no time recorded';
  const rows = b.rows.map((row) => {
    const change = formatChange(row.baseline, row.now, row.presence);
    const cls = row.change_percent === null ? '' : row.change_percent > 0 ? 'chg-up' : row.change_percent < 0 ? 'chg-down' : '';
    const what = row.section === 'services' ? `${row.component} ${row.unit === 'percent' ? 'CPU' : 'memory'}` : row.component;
    return `<tr><td>${SECTION_TITLE[row.section]}</td><td class="name">${e(what)}</td><td class="num">${fmt(row, row.baseline)}</td><td class="num">${fmt(row, row.now)}</td><td class="num ${cls}">${e(change)}</td></tr>`;
  });
  return `<section id="baseline"><h2>Changes since the baseline</h2>
<p class="note">Baseline ${e(b.file)} (${e(when)}).${b.growth_note ? ` ${e(b.growth_note.charAt(0).toUpperCase() + b.growth_note.slice(1))}.` : ''}</p>
<table><thead><tr><th>Section</th><th>Component</th><th class="num">Baseline</th><th class="num">Now</th><th class="num">Change</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table></section>`;
}

/** Freshness of databases and logs, disk left, deleted files held open; nothing when none was read. */
function silentSection(r: AuditReport): string {
  const sf = r.silent_failures;
  if (!sf || (sf.databases.length === 0 && sf.service_logs.length === 0 && sf.filesystems.length === 0)) return '';
  const fresh = (age: number, within: number | null): string =>
    within === null ? `${formatDurationShort(age)} ago` : `${formatDurationShort(age)} ago (expected within ${formatDurationShort(within)})${age > within ? ' <strong>STALE</strong>' : ''}`;
  const rows = [
    ...sf.databases.map((d) => `<tr data-fresh="${e(d.path)}"><td class="name">${e(d.database)}</td><td>database last written</td><td>${fresh(d.last_write_age_seconds, d.expected_within_seconds)}</td></tr>`),
    ...sf.service_logs.map((l) => `<tr data-fresh="${e(serviceId(l))}"><td class="name">${e(serviceId(l))}</td><td>log last written</td><td>${fresh(l.last_write_age_seconds, l.expected_within_seconds)}</td></tr>`),
  ];
  const disks = sf.filesystems.map((f) => {
    const used = f.size_bytes - f.avail_bytes;
    const b = bar({
      value: used,
      max: Math.max(1, f.size_bytes),
      marks: [{ at: f.size_bytes * (1 - THRESHOLDS.diskAlmostFull.value), tone: 'crit' }],
      tone: f.avail_ratio !== null && f.avail_ratio < THRESHOLDS.diskAlmostFull.value ? 'crit' : f.avail_ratio !== null && f.avail_ratio < THRESHOLDS.diskFillingUp.value ? 'warn' : 'ok',
      label: `${f.mountpoint} ${formatBytes(used)} used of ${formatBytes(f.size_bytes)}`,
    });
    const pct = f.avail_ratio === null ? '' : ` (${formatPercent(f.avail_ratio * 100)} left)`;
    return `<tr data-filesystem="${e(f.mountpoint)}"><td class="name">${e(f.mountpoint)}</td><td class="path">${e(f.device)} ${e(f.fstype)}</td><td class="barcell">${b}<span>${formatBytes(f.avail_bytes)} left${pct}</span></td></tr>`;
  });
  const held = sf.deleted_open.length === 0 ? 'none' : sf.deleted_open.map((d) => `${e(serviceId(d))} ${formatBytes(d.bytes)}`).join(', ');
  return `<section id="silent"><h2>Silent failures</h2>
${rows.length > 0 ? `<table><thead><tr><th>What</th><th>Figure</th><th>When</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>` : ''}
${disks.length > 0 ? `<table><thead><tr><th>Filesystem</th><th>Device</th><th>Disk left</th></tr></thead><tbody>\n${disks.join('\n')}\n</tbody></table>` : ''}
<p>Deleted files held open: ${held}</p>
</section>`;
}

export function renderHtml(r: AuditReport, opts: HtmlOptions = {}): string {
  const refresh = opts.live ? `<meta http-equiv="refresh" content="${Math.max(5, Math.round(opts.live.refreshSeconds))}">\n` : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
${refresh}<title>${e(STATUS_LABEL[r.status])} · audit of ${e(r.hostname)}</title>
<style>${CSS}</style>
</head>
<body>
${banner(r, opts)}
<main>
${anomaliesSection(r)}
${servicesSection(r)}
${healthSection(r)}
${storageSection(r)}
${silentSection(r)}
${baselineSection(r)}
</main>
<footer>Generated ${e(r.generated_at)} by hostaudit-exporter ${e(r.exporter_version)} from the same report model as <code>audit --format=json</code>; thresholds are those of the alert rules.</footer>
</body>
</html>
`;
}
