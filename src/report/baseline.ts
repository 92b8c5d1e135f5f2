// --baseline=FILE: reads an earlier `audit --format=json` report (or a hand-written one with
// the same keys; every section is optional) and compares it with this one, row by row, as the
// audit's "Baseline / Post-Optimization / Change" tables do. A missing or malformed file is a
// ConfigError naming the file and the key: exit 2 and one line, never a stack trace.
import { readFileSync } from 'node:fs';
import { ConfigError, describeError } from '../errors.js';
import { changePercent } from './format.js';
import { REPORT_SCHEMA, type AuditReport, type ComparisonRow } from './model.js';
import { serviceId } from './service-id.js';

export type Baseline = Partial<AuditReport> & { schema: typeof REPORT_SCHEMA };

type Check = (v: unknown, key: string) => void;

class Validator {
  constructor(readonly file: string) {}

  fail(key: string, problem: string): never {
    throw new ConfigError(this.file, key, problem);
  }

  object(v: unknown, key: string): Record<string, unknown> {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(key, 'must be an object');
    return v as Record<string, unknown>;
  }

  /** Checks `obj[k]` with `check` when present (every field of a baseline is optional). */
  optional(obj: Record<string, unknown>, k: string, key: string, check: Check): void {
    if (obj[k] !== undefined) check(obj[k], key ? `${key}.${k}` : k);
  }

  number: Check = (v, key) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, 'must be a number');
  };
  numberOrNull: Check = (v, key) => {
    if (v !== null) this.number(v, key);
  };
  string: Check = (v, key) => {
    if (typeof v !== 'string') this.fail(key, 'must be a string');
  };

  list(v: unknown, key: string, each: (item: Record<string, unknown>, key: string) => void): void {
    if (!Array.isArray(v)) this.fail(key, 'must be a list');
    v.forEach((item, i) => each(this.object(item, `${key}[${i}]`), `${key}[${i}]`));
  }
}

/** Validates a parsed baseline document. Exported for unit tests. */
export function parseBaseline(doc: unknown, file: string): Baseline {
  const v = new Validator(file);
  const top = v.object(doc, '(top level)');
  if (top.schema !== REPORT_SCHEMA) {
    v.fail('schema', `must be "${REPORT_SCHEMA}" (a report written by audit --format=json), got ${JSON.stringify(top.schema ?? null)}`);
  }
  v.optional(top, 'generated_at', '', (x, key) => {
    v.string(x, key);
    if (!Number.isFinite(Date.parse(x as string))) v.fail(key, 'must be an ISO 8601 date');
  });
  v.optional(top, 'storage', '', (x, key) => {
    const s = v.object(x, key);
    v.optional(s, 'paths', key, (l, k) =>
      v.list(l, k, (p, pk) => {
        v.string(p.name, `${pk}.name`);
        v.optional(p, 'bytes', pk, v.numberOrNull);
      }),
    );
    v.optional(s, 'databases', key, (l, k) =>
      v.list(l, k, (d, dk) => {
        v.string(d.path, `${dk}.path`);
        v.optional(d, 'database', dk, v.string);
        v.optional(d, 'bytes', dk, v.number);
        v.optional(d, 'main_bytes', dk, v.numberOrNull);
      }),
    );
    v.optional(s, 'databases_bytes', key, v.number);
  });
  v.optional(top, 'services', '', (l, k) =>
    v.list(l, k, (s, sk) => {
      v.string(s.group, `${sk}.group`);
      v.string(s.name, `${sk}.name`);
      v.optional(s, 'cpu_percent', sk, v.numberOrNull);
      v.optional(s, 'memory_bytes', sk, v.numberOrNull);
    }),
  );
  v.optional(top, 'supervisor', '', (x, key) => {
    const s = v.object(x, key);
    v.optional(s, 'services_total', key, v.number);
    v.optional(s, 'services_running', key, v.number);
  });
  v.optional(top, 'processes', '', (x, key) => {
    const p = v.object(x, key);
    v.optional(p, 'by_name', key, (b, bk) => {
      for (const [n, c] of Object.entries(v.object(b, bk))) v.number(c, `${bk}.${n}`);
    });
    v.optional(p, 'services_memory_bytes', key, v.number);
    v.optional(p, 'top_cpu', key, (t, tk) => {
      if (t !== null) v.number(v.object(t, tk).cpu_percent, `${tk}.cpu_percent`);
    });
  });
  v.optional(top, 'host', '', (x, key) => v.optional(v.object(x, key), 'network_connections', key, v.numberOrNull));
  return top as Baseline;
}

export function loadBaseline(file: string): Baseline {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, undefined, `cannot read baseline file: ${describeError(err)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, undefined, `baseline is not valid JSON: ${describeError(err)}`);
  }
  return parseBaseline(doc, file);
}

function row(
  section: ComparisonRow['section'],
  component: string,
  unit: ComparisonRow['unit'],
  baseline: unknown,
  now: unknown,
  presence: ComparisonRow['presence'] = 'both',
): ComparisonRow {
  const b = typeof baseline === 'number' ? baseline : null;
  const n = typeof now === 'number' ? now : null;
  return { section, component, unit, baseline: b, now: n, change_percent: changePercent(b, n), presence };
}

/** Union of keys in first-seen order: this report's entries first, then ones only the baseline has. */
function union<T>(now: readonly T[], then: readonly T[], key: (x: T) => string): string[] {
  const out: string[] = [];
  for (const x of [...now, ...then]) if (!out.includes(key(x))) out.push(key(x));
  return out;
}

function presence(inNow: boolean, inBaseline: boolean): ComparisonRow['presence'] {
  return inNow && inBaseline ? 'both' : inNow ? 'new' : 'gone';
}

export function compare(report: AuditReport, base: Baseline): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  const bPaths = base.storage?.paths ?? [];
  for (const name of union(report.storage.paths, bPaths, (p) => p.name)) {
    const then = bPaths.find((p) => p.name === name);
    const now = report.storage.paths.find((p) => p.name === name);
    rows.push(row('storage', name, 'bytes', then?.bytes, now?.bytes, presence(now !== undefined, then !== undefined)));
  }
  const dbsNow = report.storage.databases.length > 0;
  const dbsThen = base.storage?.databases_bytes !== undefined;
  if (dbsNow || dbsThen) {
    rows.push(row('storage', 'databases', 'bytes', base.storage?.databases_bytes, dbsNow ? report.storage.databases_bytes : null, presence(dbsNow, dbsThen)));
  }

  const bNames = base.processes?.by_name ?? {};
  for (const name of union(Object.keys(report.processes.by_name), Object.keys(bNames), (n) => n)) {
    rows.push(row('processes', `${name} processes`, 'count', bNames[name], report.processes.by_name[name], presence(name in report.processes.by_name, name in bNames)));
  }
  rows.push(row('processes', 'supervisor services', 'count', base.supervisor?.services_total, report.supervisor.services_total));
  rows.push(row('processes', 'services running', 'count', base.supervisor?.services_running, report.supervisor.services_running));
  rows.push(row('processes', 'services memory', 'bytes', base.processes?.services_memory_bytes, report.processes.services_memory_bytes));
  rows.push(row('processes', 'top process CPU', 'percent', base.processes?.top_cpu?.cpu_percent, report.processes.top_cpu?.cpu_percent));
  rows.push(row('processes', 'network connections', 'count', base.host?.network_connections, report.host.network_connections));

  // Matched by group and name; shown by the one name supervisorctl uses.
  const bServices = base.services ?? [];
  const key = (s: { group: string; name: string }): string => `${s.group}\u0000${s.name}`;
  for (const k of union(report.services, bServices, key)) {
    const now = report.services.find((s) => key(s) === k);
    const then = bServices.find((s) => key(s) === k);
    const id = serviceId((now ?? then) as { group: string; name: string });
    const p = presence(now !== undefined, then !== undefined);
    rows.push(row('services', id, 'percent', then?.cpu_percent, now?.cpu_percent, p));
    rows.push(row('services', id, 'bytes', then?.memory_bytes, now?.memory_bytes, p));
  }

  const bDbs = base.storage?.databases ?? [];
  for (const path of union(report.storage.databases, bDbs, (d) => d.path)) {
    const now = report.storage.databases.find((d) => d.path === path);
    const then = bDbs.find((d) => d.path === path);
    rows.push(row('databases', path, 'bytes', then?.main_bytes ?? then?.bytes, now?.main_bytes ?? now?.bytes, presence(now !== undefined, then !== undefined)));
  }
  return rows;
}
