// Reads the process table from /proc and sums figures over a process and all its
// descendants. I/O only; returns plain readings.
//
// procfs is served from kernel memory, never from disk, so these reads are synchronous on
// purpose: an async read costs a thread-pool round trip per file (~10x slower for the
// thousands of tiny files a scrape reads) and the total stays in the low milliseconds.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync } from 'node:fs';
import { spreadAge } from './spread-age.js';
import { parseProcStat, socketInode, type ProcStat } from './proc-parse.js';

function getconf(name: string, fallback: number): number {
  try {
    const n = Number(execFileSync('getconf', [name], { encoding: 'utf8', timeout: 2000 }).trim());
    return Number.isInteger(n) && n > 0 ? n : fallback;
  } catch {
    return fallback;
  }
}

/**
 * Reads a whole /proc file of one record (stat, status, cmdline, meminfo, sockstat; not a
 * table such as /proc/net/tcp, which the kernel serves a page per read) as latin1 into `buf`,
 * growing it as needed. procfs reports size 0, so it reads until a read returns less than
 * asked: such a file's record is produced whole and handed over in one read when the buffer
 * can hold it, so that ends it without a further read for EOF (one syscall fewer per file: a
 * scrape reads hundreds). Returns the length read into `into.buf` (a bigger buffer when it had
 * to grow, kept there for next time). Throws like readFileSync when the file cannot be opened
 * (the process is gone).
 */
function readInto(file: string, into: { buf: Buffer }): number {
  const fd = openSync(file, 'r');
  try {
    let buf = into.buf;
    let len = 0;
    for (;;) {
      if (len === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, len);
        buf = into.buf = bigger;
      }
      const room = buf.length - len;
      const n = readSync(fd, buf, len, room, null);
      len += n;
      if (n < room) break;
    }
    return len;
  } finally {
    closeSync(fd);
  }
}

/**
 * readProcFile for callers without a ProcReader (sources/host.ts, tcp-table.ts): the same
 * read with a buffer of its own (a small allocUnsafe comes from Node's shared pool).
 */
export function readProcFile(file: string): string {
  const into = { buf: Buffer.allocUnsafe(4096) };
  const len = readInto(file, into);
  return into.buf.toString('latin1', 0, len);
}

/**
 * The kernel's boot time, unix seconds (`btime` of /proc/stat). Read each time: it moves when
 * the wall clock is stepped, and a /proc start time is only comparable with the wall clock
 * through the current value.
 */
export function bootTimeSeconds(procRoot = '/proc'): number {
  const m = /^btime (\d+)$/m.exec(readProcFile(`${procRoot}/stat`));
  if (!m) throw new Error(`no btime in ${procRoot}/stat`);
  return Number(m[1]);
}

export interface ProcessTable {
  byPid: Map<number, ProcStat>;
  children: Map<number, number[]>;
}

/** The pid and all its descendants present in the table (empty when the pid is gone). */
export function descendants(table: ProcessTable, root: number): number[] {
  if (!table.byPid.has(root)) return [];
  const out: number[] = [];
  const stack = [root];
  const seen = new Set<number>();
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    out.push(pid);
    const kids = table.children.get(pid);
    if (kids) for (const c of kids) stack.push(c);
  }
  return out;
}

/** One live (non-zombie) process of a tree, with what treeUsage read of its fd table. */
export interface TreeMember {
  stat: ProcStat;
  /** fd numbers and their targets, index for index; undefined when the table could not be read. */
  fds?: FdEntries;
  /** Set when /proc/PID/fd was refused (EACCES, EPERM): not ours to read. */
  refused?: boolean;
  /** CPU time (schedstat, ns) of a single-threaded process, when read: unchanged means it has not run. */
  runtime?: string;
}

export interface TreeUsage {
  /** Root pid and its /proc start time: identifies this incarnation of the service. */
  rootPid: number;
  rootStartTicks: number;
  processes: number;
  /** Seconds; includes reaped children's CPU (cutime/cstime) so work done by short-lived workers counts. */
  userSeconds: number;
  systemSeconds: number;
  residentBytes: number;
  virtualBytes: number;
  openFds: number;
  /** Socket inodes held by the tree (the caller matches them against the TCP tables). */
  socketInodes: ReadonlySet<number>;
  /** Processes whose fd table was refused: openFds and socketInodes then miss theirs. */
  fdReadErrors: number;
  /** The tree's live processes, for the readings built on top (collectors/service-depth.ts). */
  members: TreeMember[];
}

export interface FdEntries {
  names: string[];
  links: string[];
}

/** The socketInodes of a tree that holds none: most trees, so one shared empty set. */
const NO_SOCKETS: ReadonlySet<number> = new Set<number>();

/**
 * fd targets are kept per process while it has not run since they were read, and at most this
 * long: a file the process holds can be deleted by another program (a log rotation) while it
 * sleeps, and only a fresh readlink shows " (deleted)".
 */
const FD_CACHE_MAX_AGE_MS = 60_000;

/**
 * Reads /proc under one root (`--path.procfs`; /proc unless the host's procfs is mounted
 * elsewhere, as in a container). Owns what the reads keep between calls: the read buffer,
 * the system constants and the fd-target cache. One per exporter, owned by the collectors.
 */
export class ProcReader {
  /** One buffer for every /proc read: readFileSync would fstat and allocate per file. */
  private readonly scratch = { buf: Buffer.allocUnsafe(64 * 1024) };
  private consts: { clockTicks: number; pageSize: number } | undefined;
  /**
   * fd targets kept per process while it has not run since they were read. Listing
   * /proc/PID/fd and reading each link costs about 27 µs for a process with three fds; its
   * CPU time in nanoseconds (the first field of /proc/PID/schedstat) costs 6. A process's fd
   * table changes only by the process itself: a single-threaded process whose runtime has not
   * moved has not been on a CPU, so it has opened and closed nothing. (The one exception would
   * be a separate process created to share its fd table with clone(CLONE_FILES) and without
   * CLONE_THREAD, which no runtime the exporter watches does.) On a host of 1,000 supervised
   * processes, mostly idle, that saves some 20 ms per scrape.
   */
  private readonly fdCache = new Map<number, { start: number; runtime: string; fds: FdEntries; at: number }>();
  private fdCacheTable: ProcessTable | undefined;
  /**
   * Each /proc entry's last stat line and its parse (ProcStat readings are never changed by
   * their users), marked with the pass that last read it.
   */
  private readonly statLines = new Map<string, { bytes: Buffer; stat: ProcStat | undefined; gen: number }>();
  private statGen = 0;

  constructor(readonly root = '/proc') {}

  /** A whole one-record file (see readInto), with this reader's buffer. */
  readFile(file: string): string {
    const len = readInto(file, this.scratch);
    return this.scratch.buf.toString('latin1', 0, len);
  }

  /**
   * The kernel's list of a process's children (`/proc/PID/task/PID/children`: pids separated by
   * spaces; the main thread's, which is all of them for a single-threaded parent). Read to the
   * end: unlike a one-record file it comes a page per read. Throws like readFileSync.
   */
  childrenText(pid: number): string {
    return readFileSync(`${this.root}/${pid}/task/${pid}/children`, 'latin1');
  }

  /** USER_HZ and the page size, read once (they cannot change while the system runs). */
  systemConstants(): { clockTicks: number; pageSize: number } {
    this.consts ??= { clockTicks: getconf('CLK_TCK', 100), pageSize: getconf('PAGESIZE', 4096) };
    return this.consts;
  }

  bootTimeSeconds(): number {
    return bootTimeSeconds(this.root);
  }

  /** One pass over /proc/[0-9]*\/stat. Processes that exit while we read are skipped. */
  readProcessTable(): ProcessTable {
    const procRoot = this.root;
    const byPid = new Map<number, ProcStat>();
    const children = new Map<number, number[]>();
    const gen = ++this.statGen;
    for (const entry of readdirSync(procRoot)) {
      const c = entry.charCodeAt(0);
      if (c < 48 || c > 57) continue;
      let len: number;
      try {
        len = readInto(`${procRoot}/${entry}/stat`, this.scratch);
      } catch {
        continue; // vanished between readdir and read
      }
      // The same line as last time parses to the same reading (the parse is a function of the
      // text alone): most processes have not run since, and their line is neither decoded nor
      // parsed again (its bytes are compared where they were read).
      const buf = this.scratch.buf;
      let hit = this.statLines.get(entry);
      if (!hit || hit.bytes.length !== len || buf.compare(hit.bytes, 0, len, 0, len) !== 0) {
        // Not from Node's shared pool: a kept slice would keep its whole 8 KiB slab alive.
        const bytes = Buffer.allocUnsafeSlow(len);
        buf.copy(bytes, 0, 0, len);
        const stat = parseProcStat(buf.toString('latin1', 0, len));
        if (!hit) this.statLines.set(entry, (hit = { bytes, stat, gen }));
        else {
          hit.bytes = bytes;
          hit.stat = stat;
        }
      }
      hit.gen = gen;
      const st = hit.stat;
      if (!st) continue;
      byPid.set(st.pid, st);
      const list = children.get(st.ppid);
      if (list) list.push(st.pid);
      else children.set(st.ppid, [st.pid]);
    }
    this.statLines.forEach((line, entry, lines) => {
      if (line.gen !== gen) lines.delete(entry); // gone: forgotten
    });
    return { byPid, children };
  }

  /** Sums a process tree. Returns undefined when the root pid no longer exists. */
  treeUsage(table: ProcessTable, root: number): TreeUsage | undefined {
    this.pruneFdCache(table);
    const pids = descendants(table, root);
    const rootStat = table.byPid.get(root);
    if (!rootStat || pids.length === 0) return undefined;
    const { clockTicks, pageSize } = this.systemConstants();
    const u: TreeUsage = {
      rootPid: root,
      rootStartTicks: rootStat.starttime,
      processes: 0,
      userSeconds: 0,
      systemSeconds: 0,
      residentBytes: 0,
      virtualBytes: 0,
      openFds: 0,
      socketInodes: NO_SOCKETS,
      fdReadErrors: 0,
      members: [],
    };
    let userTicks = 0;
    let systemTicks = 0;
    let sockets: Set<number> | undefined;
    for (const pid of pids) {
      const st = table.byPid.get(pid);
      if (!st) continue;
      userTicks += st.utime + st.cutime;
      systemTicks += st.stime + st.cstime;
      // A zombie has exited: no memory, no fds, not a process of the service any more; its CPU
      // stays counted (it moves to the parent's cutime when reaped).
      if (st.state === 'Z') continue;
      u.processes++;
      u.residentBytes += st.rssPages * pageSize;
      u.virtualBytes += st.vsizeBytes;
      const member: TreeMember = { stat: st };
      u.members.push(member);
      const fds = this.processFds(st, member);
      if (!fds) {
        if (member.refused) u.fdReadErrors++;
        continue; // exited mid-read, or not ours to read
      }
      member.fds = fds;
      u.openFds += fds.links.length;
      for (const link of fds.links) {
        if (!link.startsWith('socket:')) continue; // most links are files: no regex for them
        const inode = socketInode(link);
        if (inode !== undefined) (sockets ??= new Set()).add(inode);
      }
    }
    if (sockets) u.socketInodes = sockets;
    u.userSeconds = userTicks / clockTicks;
    u.systemSeconds = systemTicks / clockTicks;
    return u;
  }

  /** The first field of /proc/PID/schedstat (ns on a CPU); undefined when it cannot be read. */
  private runtimeOf(file: string): string | undefined {
    try {
      const t = this.readFile(file);
      const end = t.indexOf(' ');
      return end > 0 ? t.slice(0, end) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The fds of one process of `table`, from fdCache when the process cannot have changed them. */
  private processFds(st: ProcStat, member: TreeMember): FdEntries | undefined {
    const procRoot = this.root;
    if (st.threads !== 1) {
      // Another thread may have run while the leader slept: always read.
      this.fdCache.delete(st.pid);
      return readFds(`${procRoot}/${st.pid}/fd`, member);
    }
    // The runtime is read before the links: a process that runs after this has a new runtime
    // by the next scrape, so links read meanwhile are never kept past a change.
    const runtime = this.runtimeOf(`${procRoot}/${st.pid}/schedstat`);
    if (runtime !== undefined) member.runtime = runtime;
    const hit = this.fdCache.get(st.pid);
    const now = Date.now();
    if (hit && runtime !== undefined && hit.start === st.starttime && hit.runtime === runtime && now - hit.at < spreadAge(FD_CACHE_MAX_AGE_MS, st.pid)) {
      return hit.fds;
    }
    const fds = readFds(`${procRoot}/${st.pid}/fd`, member);
    if (fds && runtime !== undefined) this.fdCache.set(st.pid, { start: st.starttime, runtime, fds, at: now });
    else this.fdCache.delete(st.pid);
    return fds;
  }

  /** Forgets the fd targets of processes gone from `table` (once per table: once per collection). */
  private pruneFdCache(table: ProcessTable): void {
    if (this.fdCacheTable === table) return;
    this.fdCacheTable = table;
    for (const pid of this.fdCache.keys()) if (!table.byPid.has(pid)) this.fdCache.delete(pid);
  }

  /**
   * The network namespace `pid` lives in (`net:[4026531840]`), undefined when not readable.
   * Reading a service's sockets through /proc/PID/net rather than /proc/net gives the watched
   * process's namespace, which is the host's even when the exporter runs in a container with
   * `pid: host`.
   */
  netNamespace(pid: number | 'self'): string | undefined {
    return netNamespace(pid, this.root);
  }
}

/** fdEntries of a tree member's fd directory; a refusal is marked on the member. */
function readFds(dir: string, member: TreeMember): FdEntries | undefined {
  const r = fdEntries(dir);
  if (r !== 'refused') return r;
  member.refused = true;
  return undefined;
}

/** Errors that mean "not ours to read" rather than "gone". */
export function isRefusal(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EACCES' || code === 'EPERM';
}

/**
 * A process's open fds: their numbers and targets (`socket:[123]`, `/dev/null`, …);
 * 'refused' when the directory may not be read (another user's process), undefined when it
 * is gone.
 */
export function fdEntries(dir: string): FdEntries | 'refused' | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    return isRefusal(err) ? 'refused' : undefined;
  }
  const out: FdEntries = { names: [], links: [] };
  for (const fd of names) {
    try {
      out.links.push(readlinkSync(`${dir}/${fd}`));
      out.names.push(fd);
    } catch {
      // the fd was closed between readdir and readlink
    }
  }
  return out;
}

/**
 * The targets of a process's open fds (`socket:[123]`, `/dev/null`, …); undefined when the
 * directory cannot be read (the process exited, or is not ours to read).
 */
export function fdLinks(dir: string): string[] | undefined {
  const r = fdEntries(dir);
  return r === undefined || r === 'refused' ? undefined : r.links;
}

/**
 * The network namespace `pid` lives in (`net:[4026531840]`), undefined when not readable.
 * Reading a service's sockets through /proc/PID/net rather than /proc/net gives the watched
 * process's namespace, which is the host's even when the exporter runs in a container with
 * `pid: host`.
 */
export function netNamespace(pid: number | 'self', procRoot = '/proc'): string | undefined {
  try {
    return readlinkSync(`${procRoot}/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}
