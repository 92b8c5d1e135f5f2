// Host-wide readings: processes counted by name, TCP sockets by state, memory. I/O only.
//
// procfs reads are synchronous on purpose (see proc-tree.ts): they are served from kernel
// memory and a scrape reads hundreds of tiny files. (The TCP tables are the exception:
// sources/tcp-table.ts.)
import path from 'node:path';
import { TCP_STATES, type TcpSocket } from './proc-parse.js';
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
 * Counts live processes by name. Owns the argv[0] base names by pid, kept while the same
 * process (pid and start time) lives: a process's argv[0] is read once, not on every scrape,
 * so counting names costs one pass over the process table the supervisor collector read.
 */
export class ProcessNameCounter {
  private readonly argv0 = new Map<number, { start: number; argv0: string }>();

  constructor(private readonly procRoot = '/proc') {}

  /**
   * Live (non-zombie) processes matching each name, by comm or argv[0] base name. A process
   * matching several names counts once under each. comm is cut at 15 characters by the kernel,
   * so long script names match through argv[0] (or, run via a shebang, through comm).
   */
  count(names: readonly string[], table: ProcessTable): Map<string, number> {
    const counts = new Map<string, number>(names.map((n) => [n, 0]));
    if (names.length === 0) return counts;
    for (const pid of this.argv0.keys()) if (!table.byPid.has(pid)) this.argv0.delete(pid);
    for (const st of table.byPid.values()) {
      if (st.state === 'Z') continue;
      // argv[0] is read only when comm alone does not decide, and never for kernel threads.
      const kernel = st.ppid === KTHREADD || st.pid === KTHREADD;
      let argv0: string | undefined = kernel ? '' : undefined;
      for (const n of names) {
        let hit = nameMatches(n, st.comm);
        if (!hit) {
          argv0 ??= this.argv0Of(st.pid, st.starttime);
          hit = argv0 !== '' && nameMatches(n, argv0);
        }
        if (hit) counts.set(n, (counts.get(n) ?? 0) + 1);
      }
    }
    return counts;
  }

  private argv0Of(pid: number, start: number): string {
    const hit = this.argv0.get(pid);
    if (hit && hit.start === start) return hit.argv0;
    let argv0 = '';
    try {
      argv0 = argv0Basename(readProcFile(`${this.procRoot}/${pid}/cmdline`));
    } catch {
      // exited since the table was read
    }
    this.argv0.set(pid, { start, argv0 });
    return argv0;
  }
}

/** Every known TCP state, so each series exists (at 0) and dashboards see no gaps. */
export const TCP_STATE_NAMES: readonly string[] = Object.values(TCP_STATES);

/** Counts TCP sockets by state. TIME_WAIT sockets all have inode 0, so counts, not a map by inode. */
export function countTcpStates(sockets: Iterable<TcpSocket>): Map<string, number> {
  const counts = new Map<string, number>(TCP_STATE_NAMES.map((s) => [s, 0]));
  for (const s of sockets) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
  return counts;
}

export interface HostMemory {
  totalBytes: number;
  availableBytes: number;
  /** total − available: what `free` calls used, page cache not counted. */
  usedBytes: number;
}

/** MemTotal and MemAvailable from /proc/meminfo text, in bytes. Pure. */
export function parseMeminfo(text: string): HostMemory {
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(text);
    if (!m) throw new Error(`no ${key} in /proc/meminfo`);
    return Number(m[1]) * 1024;
  };
  const totalBytes = kb('MemTotal');
  const availableBytes = kb('MemAvailable');
  return { totalBytes, availableBytes, usedBytes: totalBytes - availableBytes };
}

/**
 * Host memory from /proc/meminfo. systeminformation's mem() gives the same figures from the
 * same file (a unit test checks they agree), but loading it cost 1.8 MB of the exporter's
 * 80 MB RSS budget for this one read (docs/design.md, "systeminformation").
 */
export function readHostMemory(procRoot = '/proc'): HostMemory {
  return parseMeminfo(readProcFile(`${procRoot}/meminfo`));
}
