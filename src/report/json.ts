// --format=json: the whole report model (what --baseline reads back) plus the short summary.
import type { AuditReport } from './model.js';
import { summarize } from './summary.js';

export function renderJson(r: AuditReport): string {
  return JSON.stringify({ ...r, summary: summarize(r) }, null, 2) + '\n';
}
