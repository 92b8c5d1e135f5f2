// Renders the report as markdown in the hand audit's shape (docs/background.md): comparative tables, system
// health indicators, recent activity, detailed breakdowns, anomalies with recommendations,
// the JSON summary and conclusions. With a baseline the tables gain Baseline / Now / Change.
import { silentFailuresMarkdown } from './silent-failures.js';
import path from 'node:path';
import type { Severity } from '../monitoring/thresholds.js';
import { FAILURE_TEXT } from '../sources/supervisor-error.js';
import { cell, formatBytes, formatChange, formatDurationShort, formatPercent } from './format.js';
import type { AuditReport, ComparisonRow, ServiceFigure, Status } from './model.js';
import { serviceId } from './service-id.js';
import { summarize } from './summary.js';

const OK = '✅';
const WARN = '⚠️';
const BAD = '❌';

const STATUS_TEXT: Record<Status, string> = {
  healthy: `${OK} **HEALTHY**`,
  info: `${OK} **HEALTHY** (observations only)`,
  warning: `${WARN} **WARNING**`,
  critical: `${BAD} **CRITICAL**`,
};

function table(header: string[], rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
}

function fmtRow(row: ComparisonRow, v: number | null): string {
  if (row.unit === 'bytes') return formatBytes(v);
  if (row.unit === 'percent') return formatPercent(v);
  return v === null ? 'n/a' : String(v);
}

function changeText(row: ComparisonRow): string {
  const c = formatChange(row.baseline, row.now, row.presence);
  return /reduction/.test(c) ? `**${c}**` : c;
}

function comparisonTable(rows: ComparisonRow[], label: (r: ComparisonRow) => string): string[] {
  return table(
    ['Component', 'Baseline', 'Now', 'Change'],
    rows.map((r) => [`**${label(r)}**`, fmtRow(r, r.baseline), fmtRow(r, r.now), changeText(r)]),
  );
}

function storageSection(r: AuditReport): string[] {
  const out = ['### STORAGE', ''];
  if (r.baseline) {
    const rows = r.baseline.rows.filter((x) => x.section === 'storage');
    if (rows.length === 0) return [...out, 'No paths or databases configured.', ''];
    return [...out, ...comparisonTable(rows, (x) => x.component), ''];
  }
  const rows = r.storage.paths.map((p) => [
    `**${p.name}**`,
    `\`${p.path}\``,
    formatBytes(p.bytes),
    p.files === null ? 'n/a' : String(p.files),
    p.scan_errors === null ? 'n/a' : String(p.scan_errors),
  ]);
  if (r.storage.databases.length > 0) {
    rows.push(['**databases**', `${r.storage.databases.length} SQLite files`, formatBytes(r.storage.databases_bytes), String(r.storage.databases.length), '']);
  }
  if (rows.length === 0) return [...out, 'No paths or databases configured.', ''];
  return [...out, ...table(['Component', 'Path', 'Size', 'Files', 'Scan errors'], rows), ''];
}

function processSection(r: AuditReport): string[] {
  const out = ['### PROCESS ANALYSIS', ''];
  if (r.baseline) {
    const rows = r.baseline.rows.filter((x) => x.section === 'processes');
    return [...out, ...comparisonTable(rows, (x) => x.component), ''];
  }
  const rows: string[][] = [];
  for (const [name, n] of Object.entries(r.processes.by_name)) rows.push([`**${name} processes**`, String(n)]);
  rows.push(['**Supervisor Services**', `${r.supervisor.services_total} (${r.supervisor.services_running} running)`]);
  rows.push(['**Services Memory (RSS)**', formatBytes(r.processes.services_memory_bytes)]);
  const top = r.processes.top_cpu;
  rows.push(['**CPU Usage (Top Process)**', top ? `${formatPercent(top.cpu_percent)} (${serviceId(top)})` : 'n/a']);
  const m = r.host.memory;
  if (m) rows.push(['**Host Memory**', `${formatBytes(m.used_bytes)} used of ${formatBytes(m.total_bytes)} (${formatBytes(m.available_bytes)} available)`]);
  return [...out, ...table(['Metric', 'Value'], rows), ''];
}

function servicesSection(r: AuditReport): string[] {
  const out = ['### SERVICE PERFORMANCE', '', `CPU is the service's whole process tree over ${r.cpu_window_seconds ?? r.sample_seconds}s, in percent of one core.`, ''];
  if (r.services.length === 0) return [...out, r.supervisor.up ? 'supervisord has no programs.' : 'supervisord did not answer: no service figures.', ''];
  if (r.baseline) {
    const rows = r.baseline.rows.filter((x) => x.section === 'services');
    const ids = [...new Set(rows.map((x) => x.component))];
    const body = ids.map((id) => {
      const cpu = rows.find((x) => x.component === id && x.unit === 'percent') as ComparisonRow;
      const mem = rows.find((x) => x.component === id && x.unit === 'bytes') as ComparisonRow;
      const s = r.services.find((x) => serviceId(x) === id);
      return [`**${id}**`, s?.state ?? 'absent', fmtRow(cpu, cpu.baseline), fmtRow(cpu, cpu.now), changeText(cpu), fmtRow(mem, mem.baseline), fmtRow(mem, mem.now), changeText(mem)];
    });
    if (r.baseline.growth_note) out.push(`Growth: ${r.baseline.growth_note}.`, '');
    out.push(...table(['Service', 'State', 'CPU baseline', 'CPU now', 'CPU change', 'Memory baseline', 'Memory now', 'Memory change'], body), '');
    const key: string[] = [];
    for (const id of ids) {
      const cpu = rows.find((x) => x.component === id && x.unit === 'percent') as ComparisonRow;
      if (cpu.baseline === null || cpu.now === null || cpu.change_percent === null) continue;
      // Changes worth a line: at least a fifth, and at least one point of a core.
      if (Math.abs(cpu.change_percent) < 20 || Math.abs(cpu.now - cpu.baseline) < 1) continue;
      const better = cpu.now < cpu.baseline;
      key.push(`- ${better ? OK : WARN} **${id}**: ${formatPercent(cpu.baseline)} → ${formatPercent(cpu.now)} CPU (${better ? `**${formatChange(cpu.baseline, cpu.now).replace('reduction', 'improvement')}**` : `${formatChange(cpu.baseline, cpu.now)}, increased activity`})`);
    }
    if (key.length > 0) out.push('**Key Changes**:', ...key, '');
    return out;
  }
  const body = r.services.map((s) => [
    `**${serviceId(s)}**`,
    s.state,
    s.restarts_in_sample === null ? 'n/a' : String(s.restarts_in_sample),
    formatPercent(s.cpu_percent),
    formatBytes(s.memory_bytes),
    s.processes === null ? 'n/a' : String(s.processes),
    formatDurationShort(s.uptime_seconds),
    formatBytes(s.log_bytes),
  ]);
  return [...out, ...table(['Service', 'State', 'Restarts in sample', 'CPU', 'Memory', 'Processes', 'Uptime', 'Logs'], body), ''];
}

/** "42 established, 11 time_wait": the non-zero states, largest first. */
function tcpDetail(tcp: Record<string, number>): string {
  const states = Object.entries(tcp).filter(([st, n]) => st !== 'listen' && n > 0).sort((a, b) => b[1] - a[1]);
  return states.length === 0 ? 'none open' : states.map(([st, n]) => `${n} ${st}`).join(', ');
}

function healthSection(r: AuditReport): string[] {
  const rows: string[][] = [];
  for (const p of r.health.probes) {
    const answer = p.status_code ? `HTTP ${p.status_code}` : 'no answer';
    const took = p.duration_seconds === null ? '' : ` in ${p.duration_seconds.toFixed(3)}s`;
    rows.push([`**Web Interface (${p.probe})**`, p.success ? `${OK} Healthy` : `${BAD} Down`, `${answer}${took}: ${p.url}`]);
  }
  if (r.health.probes.length === 0) rows.push(['**Web Interface**', '— Not configured', 'no `probes` in the config']);
  const { services_running: running, services_total: total, up } = r.supervisor;
  const restarted = r.services.filter((s) => (s.restarts_in_sample ?? 0) > 0);
  const failure = r.supervisor.failure;
  const svcStatus = !up
    ? `${BAD} supervisord ${failure === null ? 'not read' : failure}`
    : running < total
      ? `${WARN} ${total - running} not running`
      : restarted.length > 0
        ? `${WARN} ${restarted.length} restarted during the sample`
        : `${OK} All Running`;
  const restartText = restarted.map((s) => `${serviceId(s)} ×${s.restarts_in_sample}`).join(', ');
  rows.push([
    '**Supervisor Services**',
    svcStatus,
    up
      ? `${running}/${total} services active${restarted.length > 0 ? `; restarted during the sample: ${restartText}` : ''}`
      : `${r.supervisor.url ?? 'supervisord'}: ${failure === null ? 'no answer' : FAILURE_TEXT[failure]}`,
  ]);
  const dbs = r.storage.databases;
  const bad = dbs.filter((d) => d.ok === false);
  rows.push([
    '**Database Files**',
    dbs.length === 0 ? '— None' : bad.length === 0 ? `${OK} Readable` : `${BAD} ${bad.length} unreadable`,
    dbs.length === 0 ? 'no databases configured or found' : `${dbs.length} databases, ${formatBytes(r.storage.databases_bytes)}${bad.length ? `; unreadable: ${bad.map((d) => d.path).join(', ')}` : ''}`,
  ]);
  const n = r.host.network_connections;
  rows.push([
    '**Network Connections**',
    n === null ? '— Unknown' : `${OK} Active`,
    n === null ? 'TCP tables not readable' : `${n} ${n === 1 ? 'connection' : 'connections'} (${tcpDetail(r.host.tcp)}; ${r.host.tcp.listen ?? 0} listening sockets not counted)`,
  ]);
  const files = r.health.critical_files;
  const missing = files.filter((f) => !f.present);
  rows.push([
    '**Critical Files**',
    files.length === 0 ? '— Not configured' : missing.length === 0 ? `${OK} Present` : `${BAD} ${missing.length} missing`,
    files.length === 0 ? 'no `critical_files` in the config' : missing.length === 0 ? `All ${files.length} config files intact` : `missing or unreadable: ${missing.map((f) => f.path).join(', ')}`,
  ]);
  return ['### SYSTEM HEALTH INDICATORS', '', ...table(['Indicator', 'Status', 'Details'], rows), ''];
}

function activitySection(r: AuditReport): string[] {
  const out = ['### RECENT ACTIVITY'];
  for (const m of r.recent_activity.files_modified) out.push(`- **${m.name} files modified (${m.within})**: ${m.files} files`);
  if (r.baseline) {
    const grown = r.baseline.rows.filter((x) => x.section === 'databases' && x.baseline !== null && x.now !== null && x.now !== x.baseline);
    const text = grown.map((x) => `${path.basename(x.component)} ${formatBytes(x.baseline)} → ${formatBytes(x.now)}`).join(', ');
    out.push(`- **Database Updates**: ${grown.length === 0 ? 'no database changed size since the baseline' : `Active (${text})`}`);
  }
  const up = r.recent_activity.service_uptime_avg_seconds;
  out.push(`- **Service Uptime**: ${up === null ? 'no running services' : `~${formatDurationShort(up)} average`}`);
  return [...out, ''];
}

function tree(title: string, items: string[]): string[] {
  return [title, ...items.map((x, i) => `${i === items.length - 1 ? '└──' : '├──'} ${x}`)];
}

function breakdownSection(r: AuditReport): string[] {
  const out = ['### STORAGE BREAKDOWN', '```'];
  const system = r.storage.paths.find((p) => p.name === 'system');
  if (system && system.bytes !== null) {
    // Paths inside the system path, outermost only, so nothing is counted twice.
    const inside = r.storage.paths
      .filter((p) => p !== system && p.bytes !== null && p.path.startsWith(system.path + path.sep))
      .filter((p, _i, all) => !all.some((q) => q !== p && p.path.startsWith(q.path + path.sep)));
    const sum = inside.reduce((a, p) => a + (p.bytes ?? 0), 0);
    out.push(...tree(`Total System: ${formatBytes(system.bytes)}`, [...inside.map((p) => `${p.name}: ${formatBytes(p.bytes)}`), `Other: ${formatBytes(system.bytes - sum)}`]));
  } else if (r.storage.paths.length > 0) {
    out.push(...tree('Watched paths:', r.storage.paths.map((p) => `${p.name}: ${formatBytes(p.bytes)} (${p.path})`)));
  } else {
    out.push('No paths configured.');
  }
  out.push('```', '', '### DATABASE STATUS', '```');
  if (r.storage.databases.length === 0) out.push('No databases configured or found.');
  for (const d of r.storage.databases) {
    const parts = [`main ${formatBytes(d.main_bytes)}`];
    if (d.wal_bytes !== null) parts.push(`wal ${formatBytes(d.wal_bytes)}`);
    if (d.tables !== null) parts.push(`${d.tables} tables, ${d.indexes ?? 0} indexes`);
    if (d.ok === false) parts.push('UNREADABLE');
    out.push(`${path.basename(d.path)}: ${formatBytes(d.bytes)} (${parts.join('; ')})`);
  }
  out.push('```', '', '### PROCESS DISTRIBUTION', '```');
  const running = r.services.filter((s) => s.cpu_percent !== null);
  const groups: Array<[string, ServiceFigure[]]> = [
    ['High Activity (>20% CPU):', running.filter((s) => (s.cpu_percent as number) > 20)],
    ['Normal Activity (1-20% CPU):', running.filter((s) => (s.cpu_percent as number) >= 1 && (s.cpu_percent as number) <= 20)],
    ['Idle (<1% CPU):', running.filter((s) => (s.cpu_percent as number) < 1)],
  ];
  const blocks: string[][] = [];
  for (const [title, list] of groups) {
    if (list.length === 0) continue;
    const items = list.length > 6 && title.startsWith('Idle') ? [`${list.length} services`] : list.map((s) => `${serviceId(s)}: ${formatPercent(s.cpu_percent)}`);
    blocks.push(tree(title, items));
  }
  const stopped = r.services.filter((s) => s.cpu_percent === null);
  if (stopped.length > 0) blocks.push(tree('Not running:', stopped.map((s) => `${serviceId(s)} (${s.state})`)));
  if (blocks.length === 0) blocks.push(['No services.']);
  blocks.forEach((b, i) => out.push(...(i > 0 ? [''] : []), ...b));
  out.push('```', '');
  return out;
}

function anomaliesSection(r: AuditReport): string[] {
  const out = ['## 🚨 ANOMALIES & OBSERVATIONS', ''];
  if (r.anomalies.length === 0) {
    return [...out, `${OK} No anomalies: every figure is within the thresholds the alert rules use.`, ''];
  }
  r.anomalies.forEach((a, i) => {
    const icon = a.severity === 'critical' ? BAD : a.severity === 'warning' ? WARN : 'ℹ️';
    out.push(
      `### ${i + 1}. ${icon} ${a.title}`,
      `- **Severity**: ${a.severity} (alert \`${a.alert}\`)`,
      `- **Current**: ${a.current}`,
      `- **Analysis**: ${a.analysis}`,
      `- **Recommendation**: ${a.recommendation}`,
      '',
    );
  });
  return out;
}

function conclusions(r: AuditReport): string[] {
  const count = (s: Severity): number => r.anomalies.filter((a) => a.severity === s).length;
  const out = [
    '## 🎯 CONCLUSIONS',
    '',
    '### SYSTEM STATUS',
    `- **Overall Health**: ${STATUS_TEXT[r.status]}`,
    `- **Services**: ${r.supervisor.up ? `${r.supervisor.services_running}/${r.supervisor.services_total} running` : 'unknown (supervisord down)'}`,
    `- **Anomalies**: ${count('critical')} critical, ${count('warning')} warning, ${count('info')} info`,
    '',
  ];
  const recs: string[] = [];
  const seen = new Set<string>();
  const when: Record<Severity, string> = { critical: 'Immediate', warning: 'Short-term', info: 'Long-term' };
  for (const a of r.anomalies) {
    if (seen.has(a.recommendation)) continue;
    seen.add(a.recommendation);
    recs.push(`${recs.length + 1}. **${when[a.severity]}** (${a.subject}): ${a.recommendation}`);
  }
  if (recs.length > 0) out.push('### RECOMMENDATIONS', ...recs, '');
  const serious = count('critical') + count('warning');
  out.push(
    `**VERDICT**: ${serious === 0 ? 'No anomaly at warning or above.' : `${serious} ${serious === 1 ? 'anomaly' : 'anomalies'} at warning or above; see the recommendations.`}`,
    '',
  );
  return out;
}

export function renderMarkdown(r: AuditReport): string {
  const date = r.generated_at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const lines = [
    r.baseline ? '# COMPARATIVE SYSTEM AUDIT' : '# SYSTEM AUDIT',
    '',
    '## 🔍 COMPREHENSIVE SYSTEM ANALYSIS',
    '',
    `**Date**: ${date}  `,
    `**Host**: ${r.hostname}  `,
    `**Audit Type**: ${r.baseline ? 'Comparison with baseline' : 'Live audit'} (hostaudit-exporter ${r.exporter_version}, CPU sampled over ${r.sample_seconds}s)  `,
    ...(r.baseline
      ? [
          `**Baseline**: ${r.baseline.file}${r.baseline.generated_at ? ` (${r.baseline.generated_at}, ${formatDurationShort(r.baseline.age_seconds)} earlier)` : ''}  `,
          ...(r.baseline.growth_note ? [`**Growth**: ${r.baseline.growth_note}  `] : []),
        ]
      : []),
    `**Current Status**: ${STATUS_TEXT[r.status]}`,
    '',
    '---',
    '',
    r.baseline ? '## 📊 COMPARATIVE ANALYSIS' : '## 📊 ANALYSIS',
    '',
    ...storageSection(r),
    ...processSection(r),
    ...servicesSection(r),
    '---',
    '',
    '## 📈 PERFORMANCE METRICS',
    '',
    ...healthSection(r),
    ...activitySection(r),
    ...silentFailuresMarkdown(r.silent_failures, { bytes: formatBytes, duration: formatDurationShort }),
    '---',
    '',
    '## 🔍 DETAILED ANALYSIS',
    '',
    ...breakdownSection(r),
    '---',
    '',
    ...anomaliesSection(r),
    '---',
    '',
    '## 📊 JSON SUMMARY',
    '',
    '```json',
    JSON.stringify(summarize(r), null, 2),
    '```',
    '',
    '---',
    '',
    ...conclusions(r),
  ];
  return lines.join('\n');
}
