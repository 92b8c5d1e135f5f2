// The judged report: anomalies, status and the baseline comparison on top of the figures, the
// same for `audit` (every format) and the live /audit page.
import type { Tuning } from '../monitoring/tuning.js';
import { growthBasis, judge, overallStatus } from './anomalies.js';
import { compare, type Baseline } from './baseline.js';
import type { AuditReport } from './model.js';

export function finishReport(report: AuditReport, baseline?: { file: string; doc: Baseline }, tuning?: Tuning): AuditReport {
  report.anomalies = judge(report, baseline?.doc, tuning);
  report.status = overallStatus(report.anomalies);
  if (baseline) {
    const basis = growthBasis(report, baseline.doc);
    report.baseline = {
      file: baseline.file,
      generated_at: baseline.doc.generated_at ?? null,
      age_seconds: basis.ageSeconds === null ? null : Math.round(basis.ageSeconds),
      growth_extrapolated: basis.extrapolate,
      growth_note: basis.note,
      rows: compare(report, baseline.doc),
    };
  }
  return report;
}
