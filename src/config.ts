// The typed, validated configuration (docs/configuration.md). Every problem is a ConfigError
// naming the file, the key and what is wrong; unknown keys are errors too (a typo must not
// silently disable a check).
import path from 'node:path';
import { ConfigError, describeError } from './errors.js';
import { formatDuration, parseDuration } from './duration.js';
import { parseThresholds } from './config-thresholds.js';
import { noTuning, type Tuning } from './monitoring/tuning.js';
import { databaseEntry, type DatabaseEntry } from './config-expectations.js';
import { segmentRegExp } from './sources/sqlite-glob.js';
import { readBoundedFile, readYamlFile } from './yaml-file.js';

export interface SupervisorConfig {
  /** Tried in order until one answers; one entry unless the built-in default is used. */
  urls: string[];
  username?: string;
  passwordFile?: string;
  /** true when HOSTAUDIT_SUPERVISOR_PASSWORD supplies the password (and no password_file). */
  passwordFromEnv: boolean;
  timeoutMs: number;
  /** How often supervisor is polled in the background to count restarts between scrapes. */
  pollIntervalMs: number;
}

export interface PathConfig {
  name: string;
  path: string;
  /** Windows as written in the config ("10m"), with their length in ms. */
  modifiedWithin: Array<{ label: string; ms: number }>;
  /** Keep the figures current from filesystem events after the first walk (default true). */
  watch?: boolean;
}

export interface ProbeConfig {
  name: string;
  url: string;
  timeoutMs: number;
  /** Skip TLS certificate verification (self-signed internal endpoints). */
  insecureSkipVerify: boolean;
  /** Success only when the body matches (a regex), for http(s) probes. */
  expectBody?: RegExp;
}

export interface Config {
  /** Absolute path of the file loaded, or undefined for built-in defaults. */
  file?: string;
  supervisor: SupervisorConfig;
  paths: PathConfig[];
  databases: string[];
  probes: ProbeConfig[];
  criticalFiles: string[];
  processNames: string[];
  scanIntervalMs: number;
  /** Each collector's own deadline within a scrape. */
  collectorTimeoutMs: number;
  /** The `thresholds:` section: alert thresholds tuned for this host (config-thresholds.ts). */
  thresholds: Tuning;
  /** The `databases` entries with their freshness expectations (`databases` holds their globs). */
  databaseEntries: DatabaseEntry[];
  /** thresholds.services.NAME.expect_log_write_within, ms, by NAME as written (name or group:name). */
  logWriteWithin: Map<string, number>;
  /** A full walk of every watched path this often, whatever the events said. */
  fullScanIntervalMs: number;
  /** inotify watches the exporter may hold for all watched paths together. */
  watchLimit: number;
}

export const DEFAULT_SUPERVISOR_URLS = ['unix:///var/run/supervisor.sock', 'unix:///tmp/supervisor.sock'];
export const PASSWORD_ENV = 'HOSTAUDIT_SUPERVISOR_PASSWORD';
/** Well below the kernel's usual fs.inotify.max_user_watches, which other programs of the user share. */
export const DEFAULT_WATCH_LIMIT = 65_536;

export function defaultConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    supervisor: {
      urls: [...DEFAULT_SUPERVISOR_URLS],
      passwordFromEnv: Boolean(env[PASSWORD_ENV]),
      timeoutMs: 5000,
      pollIntervalMs: 1000,
    },
    paths: [],
    databases: [],
    probes: [],
    criticalFiles: [],
    processNames: [],
    scanIntervalMs: 60_000,
    collectorTimeoutMs: 8000,
    thresholds: noTuning(),
    databaseEntries: [],
    logWriteWithin: new Map(),
    fullScanIntervalMs: 3_600_000,
    watchLimit: DEFAULT_WATCH_LIMIT,
  };
}

type Node = unknown;

/** The longest delay setTimeout keeps (a 32-bit signed int of ms, about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export class Reader {
  constructor(
    readonly file: string,
    readonly baseDir: string,
  ) {}

  fail(key: string, problem: string): never {
    throw new ConfigError(this.file, key, problem);
  }

  map(v: Node, key: string, allowed: readonly string[]): Record<string, Node> {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(key, `must be a mapping, got ${kind(v)}`);
    const obj = v as Record<string, Node>;
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) {
        // A key from the file is shown quoted and cut when odd (a newline would break the one line).
        const shown = /^[\w.-]{1,64}$/.test(k) ? k : JSON.stringify(k.length > 40 ? `${k.slice(0, 40)}…` : k);
        this.fail(key ? `${key}.${shown}` : shown, `unknown key (allowed: ${allowed.join(', ')})`);
      }
    }
    return obj;
  }

  list(v: Node, key: string): Node[] {
    if (!Array.isArray(v)) this.fail(key, `must be a list, got ${kind(v)}`);
    return v;
  }

  string(v: Node, key: string): string {
    if (typeof v !== 'string' || v.length === 0) this.fail(key, `must be a non-empty string, got ${kind(v)}`);
    return v;
  }

  bool(v: Node, key: string): boolean {
    if (typeof v !== 'boolean') this.fail(key, `must be true or false, got ${kind(v)}`);
    return v;
  }

  duration(v: Node, key: string): { label: string; ms: number } {
    const text = typeof v === 'number' && v === 0 ? '0' : typeof v === 'string' ? v : undefined;
    const ms = text === undefined ? undefined : parseDuration(text);
    if (text === undefined || ms === undefined) {
      this.fail(key, `must be a duration like 500ms, 5s, 10m or 1h, got ${kind(v)}`);
    }
    return { label: text, ms };
  }

  /** A duration a timer is set with: past 2^31-1 ms Node fires the timer after 1 ms instead. */
  positiveDuration(v: Node, key: string): number {
    const d = this.duration(v, key);
    if (d.ms <= 0) this.fail(key, 'must be greater than 0');
    if (d.ms > MAX_TIMER_MS) this.fail(key, `must be at most ${formatDuration(MAX_TIMER_MS)} (2^31-1 ms, the longest timer Node keeps), got ${kind(v)}`);
    return d.ms;
  }

  /** An absolute glob (relative to the config file's directory) whose every segment compiles. */
  glob(v: Node, key: string): string {
    const g = this.filePath(v, key);
    if (g.includes('\0')) this.fail(key, 'must not contain a NUL byte');
    for (const seg of g.split('/')) {
      try {
        segmentRegExp(seg);
      } catch (err) {
        if (!(err instanceof SyntaxError)) throw err;
        this.fail(key, `is not a valid glob: ${JSON.stringify(seg)} (${err.message.replace(/^Invalid regular expression: \/.*\/\w*: /, '')})`);
      }
    }
    return g;
  }

  /** supervisor.url: unix:///socket (a path the kernel takes) or an http(s) URL that parses. */
  supervisorUrl(v: Node, key: string): string {
    const url = this.string(v, key);
    if (url.startsWith('unix://')) {
      const socket = url.slice('unix://'.length);
      if (!socket.startsWith('/') || socket.length < 2) this.fail(key, `must be unix:///path/to/socket, got ${kind(url)}`);
      // sun_path holds 108 bytes with its NUL: a longer path fails only when connecting.
      if (Buffer.byteLength(socket) > 107) this.fail(key, `socket path is longer than 107 bytes (${Buffer.byteLength(socket)})`);
      return url;
    }
    let u: URL | undefined;
    try {
      u = new URL(url);
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;
    }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || !u.hostname) {
      this.fail(key, `must be unix:///path/to/socket or http://host:port/RPC2, got ${kind(url)}`);
    }
    return url;
  }

  filePath(v: Node, key: string): string {
    return path.resolve(this.baseDir, this.string(v, key));
  }
}

function kind(v: Node): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  return `${typeof v} ${String(v)}`;
}

const TOP_KEYS = [
  'supervisor',
  'paths',
  'databases',
  'probes',
  'critical_files',
  'process_names',
  'scan_interval',
  'collector_timeout',
  'thresholds',
  'full_scan_interval',
  'watch_limit',
] as const;
const NAME_RE = /^[A-Za-z0-9_.:-]+$/;

/** Validates an already-parsed YAML document. Exported for unit tests. */
export function parseConfig(
  doc: unknown,
  file: string,
  baseDir: string = path.dirname(file),
  env: NodeJS.ProcessEnv = process.env,
): Config {
  const r = new Reader(file, baseDir);
  const cfg = defaultConfig(env);
  cfg.file = file;
  if (doc === null || doc === undefined) return cfg; // an empty file: all defaults
  const top = r.map(doc, '', TOP_KEYS);

  if (top.supervisor !== undefined && top.supervisor !== null) {
    const s = r.map(top.supervisor, 'supervisor', ['url', 'username', 'password_file', 'timeout', 'poll_interval']);
    if (s.url !== undefined) {
      const url = r.supervisorUrl(s.url, 'supervisor.url');
      if (!/^unix:\/\/\/.+/.test(url) && !/^https?:\/\/[^/]+/.test(url)) {
        r.fail('supervisor.url', `must be unix:///path/to/socket or http://host:port/RPC2, got ${kind(url)}`);
      }
      if (/^https?:\/\/[^/@]*@/.test(url)) {
        r.fail('supervisor.url', 'must not contain credentials; use username and password_file');
      }
      cfg.supervisor.urls = [url];
    }
    if (s.username !== undefined) cfg.supervisor.username = r.string(s.username, 'supervisor.username');
    if (s.password_file !== undefined) {
      const pf = r.filePath(s.password_file, 'supervisor.password_file');
      try {
        readBoundedFile(pf, 'password file'); // a FIFO or /dev/zero here would hang every supervisor call
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        r.fail('supervisor.password_file', `cannot read ${pf}: ${err.problem.replace(/^cannot read password file: /, '')}`);
      }
      cfg.supervisor.passwordFile = pf;
      cfg.supervisor.passwordFromEnv = false;
    }
    if (s.timeout !== undefined) cfg.supervisor.timeoutMs = r.positiveDuration(s.timeout, 'supervisor.timeout');
    if (s.poll_interval !== undefined) {
      cfg.supervisor.pollIntervalMs = r.positiveDuration(s.poll_interval, 'supervisor.poll_interval');
    }
  }

  if (top.paths !== undefined && top.paths !== null) {
    const seen = new Set<string>();
    cfg.paths = r.list(top.paths, 'paths').map((p, i) => {
      const key = `paths[${i}]`;
      const m = r.map(p, key, ['name', 'path', 'modified_within', 'watch']);
      const name = r.string(m.name, `${key}.name`);
      if (!NAME_RE.test(name)) r.fail(`${key}.name`, `must match ${NAME_RE.source}`);
      if (seen.has(name)) r.fail(`${key}.name`, `duplicate name ${JSON.stringify(name)}`);
      seen.add(name);
      const dir = r.filePath(m.path, `${key}.path`);
      const windows =
        m.modified_within === undefined || m.modified_within === null
          ? []
          : r.list(m.modified_within, `${key}.modified_within`).map((w, j) => {
              const d = r.duration(w, `${key}.modified_within[${j}]`);
              if (d.ms <= 0) r.fail(`${key}.modified_within[${j}]`, 'must be greater than 0');
              return d;
            });
      return { name, path: dir, modifiedWithin: windows, ...(m.watch === undefined ? {} : { watch: r.bool(m.watch, `${key}.watch`) }) };
    });
  }

  if (top.databases !== undefined && top.databases !== null) {
    cfg.databaseEntries = r.list(top.databases, 'databases').map((g, i) => {
      const key = `databases[${i}]`;
      const e = databaseEntry(g, key, file, baseDir);
      // Either form's glob must compile: a bad one is refused here, not at the first scan.
      return { ...e, glob: r.glob(e.glob, typeof g === 'string' ? key : `${key}.glob`) };
    });
    cfg.databases = cfg.databaseEntries.map((d) => d.glob);
  }

  if (top.probes !== undefined && top.probes !== null) {
    const seen = new Set<string>();
    cfg.probes = r.list(top.probes, 'probes').map((p, i) => {
      const key = `probes[${i}]`;
      const m = r.map(p, key, ['name', 'url', 'timeout', 'insecure_skip_verify', 'expect_body']);
      const name = r.string(m.name, `${key}.name`);
      if (seen.has(name)) r.fail(`${key}.name`, `duplicate name ${JSON.stringify(name)}`);
      seen.add(name);
      const url = r.string(m.url, `${key}.url`);
      let parsed: URL | undefined;
      try {
        parsed = new URL(url);
      } catch {
        parsed = undefined;
      }
      if (!parsed) return r.fail(`${key}.url`, 'is not a valid URL');
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:' && parsed.protocol !== 'tcp:') {
        r.fail(`${key}.url`, 'must be http://, https:// or tcp://HOST:PORT');
      }
      if (parsed.protocol === 'tcp:' && (!parsed.hostname || !parsed.port)) r.fail(`${key}.url`, 'a tcp:// probe needs a host and a port');
      const expectBody = m.expect_body === undefined ? undefined : probeBodyRegex(r, m.expect_body, `${key}.expect_body`, parsed.protocol);
      return {
        ...(expectBody ? { expectBody } : {}),
        name,
        url,
        timeoutMs: m.timeout === undefined ? 5000 : r.positiveDuration(m.timeout, `${key}.timeout`),
        insecureSkipVerify:
          m.insecure_skip_verify === undefined ? false : r.bool(m.insecure_skip_verify, `${key}.insecure_skip_verify`),
      };
    });
  }

  if (top.critical_files !== undefined && top.critical_files !== null) {
    cfg.criticalFiles = r.list(top.critical_files, 'critical_files').map((f, i) => r.filePath(f, `critical_files[${i}]`));
  }
  if (top.process_names !== undefined && top.process_names !== null) {
    cfg.processNames = r.list(top.process_names, 'process_names').map((n, i) => r.string(n, `process_names[${i}]`));
  }
  if (top.scan_interval !== undefined) cfg.scanIntervalMs = r.positiveDuration(top.scan_interval, 'scan_interval');
  if (top.full_scan_interval !== undefined) cfg.fullScanIntervalMs = r.positiveDuration(top.full_scan_interval, 'full_scan_interval');
  if (top.watch_limit !== undefined) {
    const n = top.watch_limit;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) r.fail('watch_limit', `must be a whole number of watches (0 switches watching off), got ${kind(n)}`);
    cfg.watchLimit = n as number;
  }
  if (top.collector_timeout !== undefined) {
    cfg.collectorTimeoutMs = r.positiveDuration(top.collector_timeout, 'collector_timeout');
  }
  cfg.thresholds = parseThresholds(r, top.thresholds);
  cfg.logWriteWithin = new Map(
    cfg.thresholds.services.flatMap((t) => (t.expectLogWriteWithinMs === undefined ? [] : [[t.service, t.expectLogWriteWithinMs] as const])),
  );
  return cfg;
}

/** Reads and validates a config file. */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  const doc = readYamlFile(file, { what: 'config file', quoteErrors: true });
  return parseConfig(doc, file, path.dirname(path.resolve(file)), env);
}

/** The password for supervisor, read fresh on every call so a rotated file is picked up. */
export function readSupervisorPassword(s: SupervisorConfig, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (s.passwordFile) {
    return readBoundedFile(s.passwordFile, 'password file').toString('utf8').replace(/\r?\n$/, '');
  }
  return env[PASSWORD_ENV] || undefined;
}

/** expect_body: a regex, for http(s) probes only. */
function probeBodyRegex(r: Reader, v: Node, key: string, protocol: string): RegExp {
  const src = r.string(v, key);
  if (protocol === 'tcp:') r.fail(key, 'applies to http:// and https:// probes only');
  try {
    return new RegExp(src);
  } catch (err) {
    return r.fail(key, `is not a valid regular expression: ${describeError(err)}`);
  }
}
