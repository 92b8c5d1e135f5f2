// A config's `thresholds:` section, as data: overrides of the built-in thresholds, per-service
// overrides and the runbook link template. Applied here, so the generated rules, the
// dashboards and the audit judge with the same numbers.
import { runbookAnchor, runbookUrl } from './alert-rules.js';
import { THRESHOLDS, type Threshold, type ThresholdKey, type ThresholdSet } from './thresholds.js';

export interface ThresholdOverride {
  value?: number;
  /** A Prometheus duration, as written in the config. */
  for?: string;
}

export type Overrides = Partial<Record<ThresholdKey, ThresholdOverride>>;

export interface ServiceTuning {
  /** As written in the config: `name` or `group:name`. */
  service: string;
  group?: string;
  name: string;
  overrides: Overrides;
  /** thresholds.services.NAME.expect_log_write_within, in ms. */
  expectLogWriteWithinMs?: number;
}

export interface Tuning {
  overrides: Overrides;
  /** `runbook_url`, with `{alert}` standing for the alert's name. */
  runbookUrl?: string;
  services: ServiceTuning[];
}

export function noTuning(): Tuning {
  return { overrides: {}, services: [] };
}

/** The config key of a threshold: its name in snake_case (serviceHighCpu → service_high_cpu). */
export function thresholdConfigKey(key: ThresholdKey): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** Config key → threshold key, for every entry of THRESHOLDS. */
export function thresholdKeysByConfigKey(): Map<string, ThresholdKey> {
  return new Map((Object.keys(THRESHOLDS) as ThresholdKey[]).map((k) => [thresholdConfigKey(k), k]));
}

export function applyOverrides(base: ThresholdSet, overrides: Overrides): ThresholdSet {
  const out: Record<string, Threshold> = { ...base };
  for (const [key, o] of Object.entries(overrides) as Array<[ThresholdKey, ThresholdOverride]>) {
    out[key] = { ...base[key], ...(o.value !== undefined ? { value: o.value } : {}), ...(o.for !== undefined ? { for: o.for } : {}) };
  }
  return out as ThresholdSet;
}

/** The thresholds the config sets for the whole host. */
export function hostThresholds(tuning: Tuning): ThresholdSet {
  return applyOverrides(THRESHOLDS, tuning.overrides);
}

/** The per-service entries that apply to a service, least specific first: `name`, then `group:name`. */
export function serviceTuningsFor(tuning: Tuning, group: string, name: string): ServiceTuning[] {
  return [
    ...tuning.services.filter((s) => s.group === undefined && s.name === name),
    ...tuning.services.filter((s) => s.group === group && s.name === name),
  ];
}

/** Overrides layered: the host's thresholds, then the `name` entry, then the `group:name` entry. */
export function layered(base: ThresholdSet, entries: readonly ServiceTuning[]): ThresholdSet {
  return entries.reduce((t, e) => applyOverrides(t, e.overrides), base);
}

/** The thresholds for one service: the host's, with that service's overrides on top. */
export function serviceThresholds(tuning: Tuning, group: string, name: string): ThresholdSet {
  return layered(hostThresholds(tuning), serviceTuningsFor(tuning, group, name));
}

/** The runbook link of an alert: the config's template, else docs/runbooks.md. */
export function runbookLink(tuning: Tuning, alert: string): string {
  if (tuning.runbookUrl === undefined) return runbookUrl(alert);
  return tuning.runbookUrl.split('{alert}').join(alert).split('{anchor}').join(runbookAnchor(alert));
}
