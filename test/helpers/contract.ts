// The project's own contract, read from its docs: the alert table of docs/monitoring.md.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './exporter.js';

const CONTRACT = path.join(ROOT, 'docs', 'monitoring.md');

export interface SpecAlert {
  alert: string;
  for: string;
  severity: string;
  labels: string[];
}

/** The alert table of docs/monitoring.md: the project's own contract for alert names, for, severity, labels. */
export function specAlerts(): SpecAlert[] {
  const text = readFileSync(CONTRACT, 'utf8');
  const section = text.slice(text.indexOf('## Alerts'));
  const out: SpecAlert[] = [];
  for (const line of section.split('\n')) {
    const m = /^\| `(HostAudit\w+)`[^|]*\|[^|]*\| ([^|]+) \| (\w+)[^|]*\| ([^|]+) \|/.exec(line);
    if (m) {
      out.push({
        alert: m[1] as string,
        for: (m[2] as string).trim(),
        severity: m[3] as string,
        labels: (m[4] as string).trim().split(/\s+/),
      });
    }
  }
  return out;
}
