// What `init` finds to watch: supervisord's programs (getAllConfigInfo, getAllProcessInfo), their
// log and working directories, the SQLite files under those, the ports their process trees
// listen on that answer HTTP, the config files named on their command lines, and their
// interpreters. Everything read from the host is bounded: walks stop at a depth and an entry
// count, probes at a timeout.
import { closeSync, lstatSync, openSync, readSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import type { SupervisorConfig } from '../config.js';
import { describeError } from '../errors.js';
import { SupervisorClient, type SupervisorProcess } from '../sources/supervisor.js';
import { descendants, fdLinks, ProcReader, readProcFile } from '../sources/proc-tree.js';
import { socketInode } from '../sources/proc-parse.js';
import type { XmlRpcValue } from '../sources/xmlrpc.js';
import { parseListenSockets } from './listen-sockets.js';

export interface Program {
  group: string;
  name: string;
  command: string;
  directory?: string;
  state: string;
  pid: number;
  logFiles: string[];
}

export interface Found<T> {
  value: T;
  /** Why it is in the config: one line, written as a comment. */
  why: string;
}

export interface Discovery {
  supervisorUrl: string;
  supervisorVersion: string;
  programs: Program[];
  paths: Array<Found<{ name: string; path: string; logs: boolean }>>;
  databases: Array<Found<string>>;
  probes: Array<Found<{ name: string; url: string }>>;
  criticalFiles: Array<Found<string>>;
  processNames: Array<Found<string>>;
  /** Things looked at and left out, for the reader. */
  notes: string[];
}

const WALK_MAX_DEPTH = 6;
const WALK_MAX_ENTRIES = 20_000;
const SQLITE_NAME = /\.(db|sqlite|sqlite3|db3)$/i;
const SQLITE_MAGIC = 'SQLite format 3\0';
const CONFIG_NAME = /\.(ya?ml|json|toml|ini|conf|cfg|env)$/i;
const MAX_COMMAND_TOKENS = 256;
const PROBE_TIMEOUT_MS = 5000;
const PROBE_PATHS = ['/health', '/healthz', '/'];

function str(v: XmlRpcValue | undefined): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Programs from getAllConfigInfo, joined with their process info (state, pid, log files). */
export function joinPrograms(configInfo: XmlRpcValue, processes: SupervisorProcess[]): Program[] {
  const byId = new Map(processes.map((p) => [`${p.group}:${p.name}`, p]));
  const out: Program[] = [];
  for (const entry of Array.isArray(configInfo) ? configInfo : []) {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) continue;
    const name = str(entry.name);
    const group = str(entry.group) ?? name;
    if (name === undefined || group === undefined) continue;
    const p = byId.get(`${group}:${name}`);
    const logs = [p?.stdoutLogfile, p?.stderrLogfile, str(entry.stdout_logfile), str(entry.stderr_logfile)];
    out.push({
      group,
      name,
      command: str(entry.command) ?? '',
      ...(str(entry.directory) !== undefined ? { directory: str(entry.directory) as string } : {}),
      state: p?.state ?? 'UNKNOWN',
      pid: p?.pid ?? 0,
      // /dev/null and the like are not logs to measure.
      logFiles: [...new Set(logs.filter((f): f is string => f !== undefined && path.isAbsolute(f) && !/^\/(dev|proc|sys)(\/|$)/.test(f)))],
    });
  }
  return out;
}

function cwdOf(pid: number): string | undefined {
  if (pid <= 0) return undefined;
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isSqlite(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(16);
    return readSync(fd, buf, 0, 16, 0) === 16 && buf.toString('latin1') === SQLITE_MAGIC;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** SQLite files under root (symlinks not followed), within the walk's bounds. */
export function findSqliteFiles(root: string): string[] {
  const found: string[] = [];
  let entries = 0;
  const walk = (dir: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names.sort()) {
      if (++entries > WALK_MAX_ENTRIES) return;
      const p = path.join(dir, n);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory() && depth < WALK_MAX_DEPTH && !n.startsWith('.') && n !== 'node_modules') walk(p, depth + 1);
      else if (st.isFile() && SQLITE_NAME.test(n) && isSqlite(p)) found.push(p);
    }
  };
  walk(root, 0);
  return found;
}

/** The ports the process tree of `pid` listens on (sockets it holds in LISTEN). */
export function listeningPorts(pid: number): Array<{ port: number; v6: boolean }> {
  if (pid <= 0) return [];
  const table = new ProcReader().readProcessTable();
  const inodes = new Set<number>();
  for (const p of descendants(table, pid)) {
    for (const link of fdLinks(`/proc/${p}/fd`) ?? []) {
      const inode = socketInode(link);
      if (inode !== undefined) inodes.add(inode);
    }
  }
  const out = new Map<number, boolean>();
  for (const [file, v6] of [['tcp', false], ['tcp6', true]] as const) {
    let text = '';
    try {
      text = readProcFile(`/proc/${pid}/net/${file}`);
    } catch {
      continue;
    }
    for (const s of parseListenSockets(text)) if (inodes.has(s.inode) && !out.has(s.port)) out.set(s.port, v6);
  }
  return [...out].sort((a, b) => a[0] - b[0]).map(([port, v6]) => ({ port, v6 }));
}

/** The first of /health, /healthz, / that answers 2xx; else the first HTTP answer; else undefined. */
export async function httpProbeUrl(port: number, v6: boolean): Promise<{ url: string; status: number } | undefined> {
  const host = v6 ? '[::1]' : '127.0.0.1';
  let first: { url: string; status: number } | undefined;
  for (const p of PROBE_PATHS) {
    const url = `http://${host}:${port}${p}`;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS), redirect: 'manual' });
      await res.body?.cancel();
      if (res.status >= 200 && res.status < 300) return { url, status: res.status };
      first ??= { url, status: res.status };
    } catch {
      return first; // not HTTP, or nobody answering: the other paths would fail the same way
    }
  }
  return first;
}

/** Files named on a command line (FILE or --flag=FILE) that look like config files and exist. */
export function configFilesOf(command: string, directory: string | undefined): string[] {
  const out: string[] = [];
  for (const token of command.split(/\s+/).slice(0, MAX_COMMAND_TOKENS)) {
    const candidate = token.includes('=') ? token.slice(token.indexOf('=') + 1) : token;
    const unquoted = candidate.replace(/^['"]|['"]$/g, '');
    if (!CONFIG_NAME.test(unquoted) || unquoted.startsWith('-')) continue;
    const file = path.resolve(directory ?? '/', unquoted);
    try {
      if (statSync(file).isFile()) out.push(file);
    } catch {
      // not there: nothing to watch
    }
  }
  return out;
}

/** The interpreter (or program) a command runs, as hostaudit_host_processes matches it. */
export function interpreterOf(command: string): string | undefined {
  const tokens = command.split(/\s+/).filter(Boolean);
  let first = tokens[0];
  if (first !== undefined && path.basename(first) === 'env') first = tokens.slice(1).find((t) => !t.startsWith('-') && !t.includes('='));
  if (first === undefined) return undefined;
  // python3.11 counts as python (nameMatches in sources/host.ts): the version is left off.
  const base = path.basename(first).replace(/[\d.]+$/, '');
  return /^[A-Za-z0-9_.+-]+$/.test(base) ? base : undefined;
}

function uniqueName(wanted: string, taken: Set<string>): string {
  const clean = wanted.replace(/[^A-Za-z0-9_.:-]/g, '_') || 'path';
  let name = clean;
  for (let i = 2; taken.has(name); i++) name = `${clean}_${i}`;
  taken.add(name);
  return name;
}

function list(names: string[]): string {
  return names.length > 4 ? `${names.slice(0, 4).join(', ')} and ${names.length - 4} more` : names.join(', ');
}

export async function discover(supervisor: SupervisorConfig): Promise<Discovery> {
  const client = new SupervisorClient(supervisor);
  const snapshot = await client.snapshot(AbortSignal.timeout(supervisor.timeoutMs));
  const configInfo = await client.call('supervisor.getAllConfigInfo', [], AbortSignal.timeout(supervisor.timeoutMs));
  const programs = joinPrograms(configInfo, snapshot.processes);
  const notes: string[] = [];

  // Directories: the log directories first (the first is `logs`, which the log alerts watch), then working directories.
  const dirs = new Map<string, { logs: boolean; who: string[] }>();
  for (const p of programs) {
    for (const f of p.logFiles) {
      const d = path.dirname(f);
      const e = dirs.get(d) ?? { logs: true, who: [] };
      if (!e.who.includes(p.name)) e.who.push(p.name);
      dirs.set(d, e);
    }
  }
  for (const p of programs) {
    const d = p.directory ?? cwdOf(p.pid);
    if (d === undefined) continue;
    if (d === '/') {
      notes.push(`${p.name} runs in /: not watched as a path (set directory= in its [program] section)`);
      continue;
    }
    const e = dirs.get(d) ?? { logs: false, who: [] };
    if (!e.who.includes(p.name)) e.who.push(p.name);
    dirs.set(d, e);
  }
  const taken = new Set<string>();
  const paths: Discovery['paths'] = [];
  let logsNamed = false;
  for (const [d, e] of dirs) {
    if (!isDir(d)) continue;
    const name = e.logs && !logsNamed ? uniqueName('logs', taken) : uniqueName(path.basename(d), taken);
    if (e.logs) logsNamed = true;
    paths.push({ value: { name, path: d, logs: e.logs }, why: `${e.logs ? 'log directory' : 'working directory'} of ${list(e.who)}` });
  }

  // SQLite files under those directories, as one glob per directory and extension.
  const roots = paths.map((p) => p.value.path).sort((a, b) => a.length - b.length);
  const seen = new Set<string>();
  const globs = new Map<string, string[]>();
  for (const root of roots) {
    for (const f of findSqliteFiles(root)) {
      if (seen.has(f)) continue;
      seen.add(f);
      const glob = path.join(root, '**', `*${path.extname(f)}`);
      globs.set(glob, [...(globs.get(glob) ?? []), path.relative(root, f)]);
    }
  }
  const databases = [...globs].map(([glob, files]) => ({ value: glob, why: `found ${list(files)}` }));

  // Ports the running programs listen on that answer HTTP.
  const probes: Discovery['probes'] = [];
  const probeNames = new Set<string>();
  for (const p of programs) {
    if (p.state !== 'RUNNING') continue;
    let ports: Array<{ port: number; v6: boolean }> = [];
    try {
      ports = listeningPorts(p.pid);
    } catch (err) {
      notes.push(`${p.name}: could not read its sockets (${describeError(err)})`);
    }
    for (const { port, v6 } of ports) {
      const answer = await httpProbeUrl(port, v6);
      if (!answer) {
        notes.push(`${p.name} listens on port ${port}, which does not answer HTTP: no probe`);
        continue;
      }
      const name = uniqueName(ports.length > 1 ? `${p.name}_${port}` : p.name, probeNames);
      probes.push({ value: { name, url: answer.url }, why: `${p.group}:${p.name} listens on port ${port}; answered HTTP ${answer.status}` });
    }
  }

  const files = new Map<string, string[]>();
  const interpreters = new Map<string, string[]>();
  for (const p of programs) {
    for (const f of configFilesOf(p.command, p.directory ?? cwdOf(p.pid))) files.set(f, [...(files.get(f) ?? []), p.name]);
    const i = interpreterOf(p.command);
    if (i !== undefined) interpreters.set(i, [...(interpreters.get(i) ?? []), p.name]);
  }
  return {
    supervisorUrl: snapshot.url,
    supervisorVersion: snapshot.version,
    programs,
    paths,
    databases,
    probes,
    criticalFiles: [...files].map(([f, who]) => ({ value: f, why: `on the command line of ${list(who)}` })),
    processNames: [...interpreters].map(([n, who]) => ({ value: n, why: `runs ${list(who)}` })),
    notes,
  };
}
