// The alert rules with a config's thresholds. A per-service override becomes a rule of its own,
// limited to that service (`and on ... hostaudit_service_info{...}`), and the default rule of
// the same alert leaves the overridden services out (`unless on ...`), so each service is
// judged by exactly one threshold. Works for any service alert of alert-rules.ts: one whose
// labels include group and name.
import { alertDefinitions, alertRule, formatBytes, type AlertDefinition, type AlertRule, type RuleFile } from './alert-rules.js';
import { THRESHOLDS, type Threshold, type ThresholdSet } from './thresholds.js';
import { hostThresholds, layered, runbookLink, type ServiceTuning, type Tuning } from './tuning.js';

const MATCH = 'on (job, instance, group, name)';

export function isServiceAlert(def: Pick<AlertDefinition, 'labels'>): boolean {
  return def.labels.includes('group') && def.labels.includes('name');
}

/** The service's hostaudit_service_info series: the set a per-service rule is limited to. */
function serviceSelector(s: ServiceTuning): string {
  const name = `name=${JSON.stringify(s.name)}`;
  return `hostaudit_service_info{${s.group !== undefined ? `group=${JSON.stringify(s.group)}, ` : ''}${name}}`;
}

/** A `name` entry's services, less those a `group:name` entry of the same alert takes. */
function ownServices(s: ServiceTuning, special: readonly ServiceTuning[]): string {
  const narrower = s.group === undefined ? special.filter((o) => o.group !== undefined && o.name === s.name) : [];
  if (narrower.length === 0) return serviceSelector(s);
  return `(${serviceSelector(s)} unless ${MATCH} (${narrower.map(serviceSelector).join(' or ')}))`;
}

/** "; tuned: 0.7 for 20m" when T differs from the built-in threshold, so the summary does not claim the default. */
function tunedSummary(rule: AlertRule, T: ThresholdSet, def: AlertDefinition, who?: string): AlertRule {
  const t = T[def.key];
  const builtin = THRESHOLDS[def.key];
  if (t.value === builtin.value && t.for === builtin.for && who === undefined) return rule;
  const what = [t.value !== builtin.value ? `limit ${limit(t)}` : '', t.for !== builtin.for ? `for ${t.for}` : ''].filter(Boolean).join(', ');
  const summary = `${rule.annotations.summary} (tuned${who ? ` for ${who}` : ''}${what ? `: ${what}` : ''})`;
  return { ...rule, annotations: { ...rule.annotations, summary } };
}

function limit(t: Threshold): string {
  if (t.unit === 'cores') return `${Math.round(t.value * 1000) / 10}% of a core`;
  if (t.unit === 'bytes') return formatBytes(t.value);
  return String(t.value);
}

export function tunedRuleFile(tuning: Tuning): RuleFile {
  const T = hostThresholds(tuning);
  const link = (alert: string): string => runbookLink(tuning, alert);
  const rules: AlertRule[] = [];
  for (const def of alertDefinitions(T)) {
    const base = tunedSummary(alertRule(def, T, link), T, def);
    const special = isServiceAlert(def) ? tuning.services.filter((s) => s.overrides[def.key] !== undefined) : [];
    if (special.length === 0) {
      rules.push(base);
      continue;
    }
    rules.push({ ...base, expr: `(${def.expr}) unless ${MATCH} (${special.map(serviceSelector).join(' or ')})` });
    for (const s of special) {
      // A group:name entry layers on the name entry of the same service, as the audit does.
      const Ts = layered(T, s.group === undefined ? [s] : [...tuning.services.filter((o) => o.group === undefined && o.name === s.name), s]);
      const sdef = alertDefinitions(Ts).find((d) => d.key === def.key) as AlertDefinition;
      const rule = tunedSummary(alertRule(sdef, Ts, link), Ts, sdef, s.service);
      rules.push({ ...rule, expr: `(${sdef.expr}) and ${MATCH} ${ownServices(s, special)}` });
    }
  }
  return { groups: [{ name: 'hostaudit', rules }] };
}
