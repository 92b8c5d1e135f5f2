// The freshness expectations of the config: `expect_write_within` of a `databases:` entry in
// its object form; and the lookup of `thresholds.services.NAME.expect_log_write_within`, which
// config-thresholds.ts parses with the rest of the `thresholds:` section.
import path from 'node:path';
import { ConfigError } from './errors.js';
import { parseDuration } from './duration.js';

export interface DatabaseEntry {
  /** Absolute glob. */
  glob: string;
  /** ms; undefined for a plain glob or an object without expect_write_within. */
  expectWriteWithinMs?: number;
}

function duration(file: string, key: string, v: unknown): number {
  const ms = typeof v === 'string' ? parseDuration(v) : undefined;
  if (ms === undefined || ms <= 0) {
    throw new ConfigError(file, key, `must be a duration greater than 0 like 5m or 1h, got ${JSON.stringify(v) ?? 'nothing'}`);
  }
  return ms;
}

/** One `databases:` entry: a glob, or `{glob, expect_write_within}`. */
export function databaseEntry(v: unknown, key: string, file: string, baseDir: string): DatabaseEntry {
  if (typeof v === 'string' && v.length > 0) return { glob: path.resolve(baseDir, v) };
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new ConfigError(file, key, 'must be a glob or a mapping with glob and expect_write_within');
  }
  const m = v as Record<string, unknown>;
  for (const k of Object.keys(m)) {
    if (k !== 'glob' && k !== 'expect_write_within') throw new ConfigError(file, `${key}.${k}`, 'unknown key (allowed: glob, expect_write_within)');
  }
  if (typeof m.glob !== 'string' || m.glob.length === 0) throw new ConfigError(file, `${key}.glob`, 'must be a non-empty string');
  const out: DatabaseEntry = { glob: path.resolve(baseDir, m.glob) };
  if (m.expect_write_within !== undefined) out.expectWriteWithinMs = duration(file, `${key}.expect_write_within`, m.expect_write_within);
  return out;
}

/** The expectation for one supervisor process: by group:name first, then by name. */
export function expectationFor(map: ReadonlyMap<string, number>, group: string, name: string): number | undefined {
  return map.get(`${group}:${name}`) ?? map.get(name);
}
