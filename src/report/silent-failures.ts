// The report's figures for the quiet failures: how long ago each database and service log was
// written (beside its expectation), disk left on the filesystems holding what is watched, and
// the deleted files services still hold open. From one collection's families.
import type { FamilyIndex } from './families.js';
import { serviceId } from './service-id.js';

export interface SilentFailures {
  databases: Array<{ database: string; path: string; last_write_age_seconds: number; expected_within_seconds: number | null }>;
  service_logs: Array<{ group: string; name: string; last_write_age_seconds: number; expected_within_seconds: number | null }>;
  filesystems: Array<{ mountpoint: string; device: string; fstype: string; size_bytes: number; avail_bytes: number; avail_ratio: number | null }>;
  deleted_open: Array<{ group: string; name: string; bytes: number }>;
  deleted_open_bytes: number;
}

export function silentFailures(ix: FamilyIndex, nowSeconds: number): SilentFailures {
  const age = (t: number): number => Math.max(0, Math.round(nowSeconds - t));
  const databases = ix.all('hostaudit_sqlite_last_write_timestamp_seconds').map((s) => {
    const l = { database: s.labels.database ?? '', path: s.labels.path ?? '' };
    return { ...l, last_write_age_seconds: age(s.value), expected_within_seconds: ix.one('hostaudit_sqlite_expected_write_within_seconds', l) };
  });
  const newest = new Map<string, { group: string; name: string; t: number }>();
  for (const s of ix.all('hostaudit_service_log_last_write_timestamp_seconds')) {
    const group = s.labels.group ?? '';
    const name = s.labels.name ?? '';
    const k = `${group}\u0000${name}`;
    const prev = newest.get(k);
    if (!prev || s.value > prev.t) newest.set(k, { group, name, t: s.value });
  }
  const service_logs = [...newest.values()].map(({ group, name, t }) => ({
    group,
    name,
    last_write_age_seconds: age(t),
    expected_within_seconds: ix.one('hostaudit_service_expected_log_write_within_seconds', { group, name }),
  }));
  const filesystems = ix.all('hostaudit_filesystem_size_bytes').map((s) => {
    const l = { mountpoint: s.labels.mountpoint ?? '', device: s.labels.device ?? '', fstype: s.labels.fstype ?? '' };
    const avail = ix.one('hostaudit_filesystem_avail_bytes', l) ?? 0;
    return { ...l, size_bytes: s.value, avail_bytes: avail, avail_ratio: s.value > 0 ? Math.round((avail / s.value) * 1000) / 1000 : null };
  });
  const deleted_open = ix
    .all('hostaudit_service_deleted_open_bytes')
    .filter((s) => s.value > 0)
    .map((s) => ({ group: s.labels.group ?? '', name: s.labels.name ?? '', bytes: s.value }));
  return { databases, service_logs, filesystems, deleted_open, deleted_open_bytes: deleted_open.reduce((a, d) => a + d.bytes, 0) };
}

/** The markdown report's "SILENT FAILURES" section; nothing when no such figure was read. */
export function silentFailuresMarkdown(sf: SilentFailures | undefined, fmt: { bytes: (n: number) => string; duration: (s: number) => string }): string[] {
  if (!sf || (sf.databases.length === 0 && sf.service_logs.length === 0 && sf.filesystems.length === 0)) return [];
  const out = ['### SILENT FAILURES'];
  const late = (age: number, within: number | null): string => (within !== null && age > within ? ` (STALE: expected within ${fmt.duration(within)})` : '');
  for (const d of sf.databases) out.push(`- **${d.database} last written**: ${fmt.duration(d.last_write_age_seconds)} ago${late(d.last_write_age_seconds, d.expected_within_seconds)}`);
  for (const s of sf.service_logs) out.push(`- **${serviceId(s)} log last written**: ${fmt.duration(s.last_write_age_seconds)} ago${late(s.last_write_age_seconds, s.expected_within_seconds)}`);
  for (const f of sf.filesystems) {
    const pct = f.avail_ratio === null ? '' : ` (${Math.round(f.avail_ratio * 1000) / 10}% left)`;
    out.push(`- **Disk left on ${f.mountpoint}** (${f.device}, ${f.fstype}): ${fmt.bytes(f.avail_bytes)} of ${fmt.bytes(f.size_bytes)}${pct}`);
  }
  out.push(`- **Deleted files held open**: ${sf.deleted_open.length === 0 ? 'none' : sf.deleted_open.map((d) => `${serviceId(d)} ${fmt.bytes(d.bytes)}`).join(', ')}`);
  out.push('');
  return out;
}
