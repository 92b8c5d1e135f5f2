// Host-wide readings: processes counted by name, TCP sockets by state, memory. I/O only.
//
// procfs reads are synchronous on purpose (see proc-tree.ts): they are served from kernel
// memory and a scrape reads hundreds of tiny files.
import path from 'node:path';
import si from 'systeminformation';
import { parseProcNetTcp, TCP_STATES } from './proc-parse.js';
import { readProcFile, type ProcessTable } from './proc-tree.js';

/**
 * Whether a process whose name (comm) or argv[0] base name is `candidate` counts as `name`.
 * Exact match, or `name` followed by a version suffix: `python` counts `python3` and
 * `python3.11` (Debian has no plain `python`, and the audit's "Python processes" meant all
 * of them) but not `pythonista`.
 */
export function nameMatches(name: string, candidate: string): boolean {
  if (candidate === name) return true;
  return candidate.startsWith(name) && /^[\d.]+$/.test(candidate.slice(name.length));
}

/** argv[0]'s base name from /proc/PID/cmdline text (NUL-separated); '' for kernel threads. */
export function argv0Basename(cmdline: string): string {
  const argv0 = cmdline.split('\0', 1)[0] ?? '';
  // Some programs rewrite their argv into one space-separated string (setproctitle).
  return path.basename(argv0.split(' ', 1)[0] ?? '');
}

/** kthreadd (pid 2) and its children are kernel threads: no argv, so no cmdline to read. */
const KTHREADD = 2;

/**
 * argv[0] base names by pid, kept while the same process (pid and start time) lives: a
 * process's argv[0] is read once, not on every scrape, so counting names costs one pass
 * over the process table the supervisor collector already read.
 */
const argv0Cache = new Map<number, { start: number; argv0: string }>();

function argv0Of(pid: number, start: number, procRoot: string): string {
  const hit = argv0Cache.get(pid);
  if (hit && hit.start === start) return hit.argv0;
  let argv0 = '';
  try {
    argv0 = argv0Basename(readProcFile(`${procRoot}/${pid}/cmdline`));
  } catch {
    // exited since the table was read
  }
  argv0Cache.set(pid, { start, argv0 });
  return argv0;
}

/**
 * Live (non-zombie) processes matching each name, by comm or argv[0] base name. A process
 * matching several names counts once under each. comm is cut at 15 characters by the kernel,
 * so long script names match through argv[0] (or, run via a shebang, through comm).
 */
export function countProcesses(names: readonly string[], table: ProcessTable, procRoot = '/proc'): Map<string, number> {
  const counts = new Map<string, number>(names.map((n) => [n, 0]));
  if (names.length === 0) return counts;
  for (const pid of argv0Cache.keys()) if (!table.byPid.has(pid)) argv0Cache.delete(pid);
  for (const st of table.byPid.values()) {
    if (st.state === 'Z') continue;
    // argv[0] is read only when comm alone does not decide, and never for kernel threads.
    const kernel = st.ppid === KTHREADD || st.pid === KTHREADD;
    let argv0: string | undefined = kernel ? '' : undefined;
    for (const n of names) {
      let hit = nameMatches(n, st.comm);
      if (!hit) {
        argv0 ??= argv0Of(st.pid, st.starttime, procRoot);
        hit = argv0 !== '' && nameMatches(n, argv0);
      }
      if (hit) counts.set(n, (counts.get(n) ?? 0) + 1);
    }
  }
  return counts;
}

/** Every known TCP state, so each series exists (at 0) and dashboards see no gaps. */
export const TCP_STATE_NAMES: readonly string[] = Object.values(TCP_STATES);

/** Counts TCP sockets by state over tcp and tcp6 texts. TIME_WAIT sockets all have inode 0, so counts, not a map by inode. */
export function countTcpStates(texts: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>(TCP_STATE_NAMES.map((s) => [s, 0]));
  for (const text of texts) {
    for (const s of parseProcNetTcp(text)) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
  }
  return counts;
}

/**
 * Host-wide TCP sockets by state. Read through PID 1's view of the network: on the host that
 * is the host's namespace, and in a container started with `pid: host` too, where /proc/net
 * would show only the container's own sockets. Falls back to our own namespace when PID 1's
 * is not readable.
 */
export function readHostTcp(procRoot = '/proc'): { counts: Map<string, number>; source: string } {
  for (const dir of [`${procRoot}/1/net`, `${procRoot}/self/net`]) {
    const texts: string[] = [];
    for (const f of ['tcp', 'tcp6']) {
      try {
        texts.push(readProcFile(`${dir}/${f}`));
      } catch {
        // tcp6 is absent when IPv6 is disabled; tcp alone then
      }
    }
    if (texts.length > 0) return { counts: countTcpStates(texts), source: dir };
  }
  throw new Error(`cannot read ${procRoot}/1/net/tcp or ${procRoot}/self/net/tcp`);
}

export interface HostMemory {
  totalBytes: number;
  availableBytes: number;
  /** total − available: what `free` calls used, page cache not counted. */
  usedBytes: number;
}

/**
 * systeminformation's mem() reads /proc/meminfo once, asynchronously, and spawns nothing
 * on Linux (measured in README "Design notes"), so it is used here as the design asks.
 */
export async function readHostMemory(): Promise<HostMemory> {
  const m = await si.mem();
  if (!(m.total > 0) || !Number.isFinite(m.available)) throw new Error('systeminformation mem(): no figures');
  return { totalBytes: m.total, availableBytes: m.available, usedBytes: m.total - m.available };
}
