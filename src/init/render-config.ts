// The config `init` prints: plain YAML a user reads top to bottom, each entry with a comment
// saying where it came from. Strings are written double-quoted (JSON's escaping is valid YAML),
// and comments are cut to one printable line, since names come from the host.
import type { Discovery } from './discover.js';

function q(s: string): string {
  return JSON.stringify(s);
}

function comment(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

/** The credentials init used (from --config.file), written back so the config reaches supervisord too. */
export interface SupervisorAuth {
  username?: string;
  passwordFile?: string;
}

export function renderConfig(d: Discovery, meta: { host: string; date: string }, auth: SupervisorAuth = {}): string {
  const out: string[] = [
    `# hostaudit-exporter config, written by \`hostaudit-exporter init\` on ${comment(meta.host)} at ${meta.date}.`,
    '# Read it, delete what you do not want watched, then check it:',
    '#   hostaudit-exporter --config.check --config.file=THIS_FILE',
    '# Every key is described in docs/configuration.md.',
    '',
    `# supervisord ${comment(d.supervisorVersion)} answered here, with ${d.programs.length} program process(es):`,
    ...d.programs.map((p) => `#   ${comment(`${p.group}:${p.name}`)} ${comment(p.state)}`),
    'supervisor:',
    `  url: ${q(d.supervisorUrl)}`,
    ...(auth.username !== undefined
      ? [`  username: ${q(auth.username)}`, ...(auth.passwordFile !== undefined ? [`  password_file: ${q(auth.passwordFile)}`] : ['  # the password: HOSTAUDIT_SUPERVISOR_PASSWORD'])]
      : ['  # username: auditor                # when supervisord asks for one; the password in', '  # password_file: /etc/hostaudit/supervisor.pass   # or HOSTAUDIT_SUPERVISOR_PASSWORD']),
    '',
  ];
  if (d.paths.length > 0) {
    out.push('# Directories, measured like `du -sb`. The one named `logs` is what HostAuditLogsLarge watches.', 'paths:');
    for (const p of d.paths) {
      out.push(`  # ${comment(p.why)}`, `  - name: ${q(p.value.name)}`, `    path: ${q(p.value.path)}`);
      if (p.value.logs) out.push('    modified_within: [10m, 1h]');
    }
    out.push('');
  } else out.push('# paths: none found (no log or working directory)', '');
  if (d.databases.length > 0) {
    out.push('# SQLite databases found under those directories, read strictly read-only.', 'databases:');
    for (const g of d.databases) out.push(`  # ${comment(g.why)}`, `  - ${q(g.value)}`);
    out.push('');
  } else out.push('# databases: no SQLite file found under those directories', '');
  if (d.probes.length > 0) {
    out.push('# HTTP health probes: ports the programs listen on that answer HTTP.', 'probes:');
    for (const p of d.probes) {
      out.push(`  # ${comment(p.why)}`, `  - name: ${q(p.value.name)}`, `    url: ${q(p.value.url)}`, '    timeout: 2s');
    }
    out.push('');
  } else out.push('# probes: no program listens on a port that answers HTTP', '');
  if (d.criticalFiles.length > 0) {
    out.push('# Config files named on the programs\' command lines: HostAuditCriticalFileMissing when one goes.', 'critical_files:');
    for (const f of d.criticalFiles) out.push(`  # ${comment(f.why)}`, `  - ${q(f.value)}`);
    out.push('');
  }
  if (d.processNames.length > 0) {
    out.push('# Host-wide process counts by name (hostaudit_host_processes): the programs\' interpreters.', 'process_names:');
    for (const n of d.processNames) out.push(`  # ${comment(n.why)}`, `  - ${q(n.value)}`);
    out.push('');
  }
  out.push(
    'scan_interval: 60s',
    '',
    '# Alert thresholds: uncomment to tune (keys and defaults: docs/configuration.md, "thresholds").',
    '# thresholds:',
    '#   service_high_cpu: {value: 0.5, for: 20m}',
    '#   services:',
    '#     SOME_SERVICE:',
    '#       service_high_cpu: {value: 0.7}',
  );
  if (d.notes.length > 0) out.push('', '# Left out:', ...d.notes.map((n) => `#   ${comment(n)}`));
  return out.join('\n') + '\n';
}
