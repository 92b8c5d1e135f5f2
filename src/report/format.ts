// Human formatting for the report, in the audit's own style: decimal units ("2.1GB",
// "479MB", "4.2MB", "72KB"), CPU as a percent of one core ("45.9%"), changes as
// "45% reduction" / "+15%".

/** Decimal bytes, two significant figures below 10 and whole numbers above: 2.1GB, 479MB. */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return 'n/a';
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  // Rounding may carry into the next unit (999.7MB → 1000MB): carry it.
  if (Math.round(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  const text = i === 0 ? String(Math.round(v)) : v < 10 ? v.toFixed(1).replace(/\.0$/, '') : String(Math.round(v));
  return `${n < 0 ? '-' : ''}${text}${units[i]}`;
}

export function formatPercent(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return 'n/a';
  return `${n.toFixed(1)}%`;
}

/** (now − baseline) / baseline × 100, one decimal; null when it has no meaning. */
export function changePercent(baseline: number | null | undefined, now: number | null | undefined): number | null {
  if (baseline === null || baseline === undefined || now === null || now === undefined) return null;
  if (!Number.isFinite(baseline) || !Number.isFinite(now) || baseline === 0) return null;
  return Math.round(((now - baseline) / baseline) * 1000) / 10;
}

/**
 * "45% reduction", "+15%", "No change"; "from 0" when the baseline was 0; "new" or "gone" only
 * when the row's subject is missing on one side; "n/a" when a figure is missing on a side
 * that has the subject (a service not running then has no CPU).
 */
export function formatChange(
  baseline: number | null | undefined,
  now: number | null | undefined,
  presence: 'both' | 'new' | 'gone' = 'both',
): string {
  if (presence === 'new') return 'new';
  if (presence === 'gone') return 'gone';
  if (baseline === null || baseline === undefined || now === null || now === undefined) return 'n/a';
  if (baseline === 0) return now === 0 ? 'No change' : 'from 0';
  const pct = changePercent(baseline, now) as number;
  if (pct === 0) return 'No change';
  const shown = Math.abs(pct) >= 10 ? Math.round(Math.abs(pct)).toString() : Math.abs(pct).toFixed(1).replace(/\.0$/, '');
  return pct < 0 ? `${shown}% reduction` : `+${shown}%`;
}

/** "3d 4h", "2h 5m", "12m", "40s". */
export function formatDurationShort(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return 'n/a';
  const s = Math.round(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

/**
 * A limit in bytes as the thresholds are written: binary when it is a round number of GiB or
 * MiB (1.5 GiB, 64 MiB), decimal otherwise (3.8 GB), so a page never calls 1 GiB "1.1GB".
 */
export function formatLimitBytes(n: number): string {
  for (const [unit, size] of [
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
  ] as const) {
    const q = n / size;
    if (q >= 1 && Math.abs(q * 10 - Math.round(q * 10)) < 1e-9) {
      return `${Number(q.toFixed(1))}${unit}`;
    }
  }
  return formatBytes(n);
}

/** A value in a threshold's unit, for "Current" and "limit" texts. */
export function formatThresholdValue(value: number, unit: string): string {
  switch (unit) {
    case 'cores':
      return `${formatPercent(value * 100)} of a core`;
    case 'bytes':
      return formatLimitBytes(value);
    case 'ratio':
      return `×${value >= 10 ? Math.round(value) : value.toFixed(2).replace(/\.?0+$/, '')}`;
    default:
      return String(value);
  }
}

/** Escapes a table cell: pipes would end the cell, newlines the row. */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}
