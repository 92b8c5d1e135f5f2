// The `thresholds:` section of the config (docs/configuration.md "Thresholds"): overrides of the
// built-in thresholds by their snake_case names, per-service overrides by supervisor name or
// group:name, and the runbook link template. As strict as the rest of the config: an unknown
// alert key is refused, naming the file and the key.
import type { Reader } from './config.js';
import { alertDefinitions } from './monitoring/alert-rules.js';
import { THRESHOLDS, type ThresholdKey } from './monitoring/thresholds.js';
import { isServiceAlert } from './monitoring/tuned-rules.js';
import { noTuning, thresholdConfigKey, thresholdKeysByConfigKey, type Overrides, type ServiceTuning, type ThresholdOverride, type Tuning } from './monitoring/tuning.js';

const SERVICE_RE = /^(?:([^\s:"'\\{}]+):)?([^\s:"'\\{}]+)$/;
const SERVICE_ONLY_KEYS = ['expect_log_write_within'] as const;

function override(r: Reader, v: unknown, key: string, k: ThresholdKey): ThresholdOverride {
  const m = r.map(v, key, ['value', 'for']);
  const out: ThresholdOverride = {};
  if (m.value !== undefined) {
    if (THRESHOLDS[k].unit === 'boolean') r.fail(`${key}.value`, 'this alert is a yes/no condition with no value to tune; only for');
    if (typeof m.value !== 'number' || !Number.isFinite(m.value) || m.value < 0) {
      r.fail(`${key}.value`, `must be a number >= 0 (in ${THRESHOLDS[k].unit}), got ${JSON.stringify(m.value) ?? 'nothing'}`);
    }
    out.value = m.value;
  }
  if (m.for !== undefined) out.for = r.duration(m.for, `${key}.for`).label;
  if (out.value === undefined && out.for === undefined) r.fail(key, 'must set value, for or both');
  return out;
}

export function parseThresholds(r: Reader, v: unknown): Tuning {
  const tuning = noTuning();
  if (v === undefined || v === null) return tuning;
  const byConfigKey = thresholdKeysByConfigKey();
  const m = r.map(v, 'thresholds', [...byConfigKey.keys(), 'runbook_url', 'services']);
  for (const [ck, value] of Object.entries(m)) {
    const k = byConfigKey.get(ck);
    if (k !== undefined) tuning.overrides[k] = override(r, value, `thresholds.${ck}`, k);
  }
  if (m.runbook_url !== undefined) {
    const url = r.string(m.runbook_url, 'thresholds.runbook_url');
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(url.split('{alert}').join('x').split('{anchor}').join('x')).protocol);
    } catch {
      ok = false;
    }
    if (!ok) r.fail('thresholds.runbook_url', 'must be an http:// or https:// URL, with {alert} where the alert name goes');
    tuning.runbookUrl = url;
  }
  if (m.services !== undefined && m.services !== null) {
    const serviceKeys = alertDefinitions()
      .filter(isServiceAlert)
      .map((d) => thresholdConfigKey(d.key));
    const raw = m.services;
    if (typeof raw !== 'object' || Array.isArray(raw)) r.fail('thresholds.services', 'must be a mapping of service name (or group:name) to overrides');
    for (const [service, body] of Object.entries(raw as Record<string, unknown>)) {
      const key = `thresholds.services.${service}`;
      const sm = SERVICE_RE.exec(service);
      if (!sm) r.fail(key, 'must be a supervisor process name or group:name');
      const entry: ServiceTuning = { service, name: sm[2] as string, overrides: {} as Overrides };
      if (sm[1] !== undefined) entry.group = sm[1];
      const sb = r.map(body, key, [...serviceKeys, ...SERVICE_ONLY_KEYS]);
      for (const [ck, value] of Object.entries(sb)) {
        const k = byConfigKey.get(ck);
        if (k !== undefined) entry.overrides[k] = override(r, value, `${key}.${ck}`, k);
      }
      if (sb.expect_log_write_within !== undefined) {
        entry.expectLogWriteWithinMs = r.positiveDuration(sb.expect_log_write_within, `${key}.expect_log_write_within`);
      }
      tuning.services.push(entry);
    }
  }
  return tuning;
}
