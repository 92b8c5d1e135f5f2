// Per-service depth over each process tree, beside the supervisor collector's CPU and memory:
// threads, storage I/O, context switches, major faults, PSS and swap, the fd usage ratio,
// deleted-but-open bytes, and the processes whose /proc files could not be read. The
// supervisor collector reads the trees (sources/proc-tree.ts); this adds the reads on top and
// owns what they keep between scrapes (the monotonic accounts, the smaps_rollup cache).
import { statSync } from 'node:fs';
import type { Logger } from '../log.js';
import {
  isDeletedFileLink,
  parseContextSwitches,
  parseNofileSoftLimit,
  parseProcIo,
  parseSmapsRollup,
  type SmapsRollup,
} from '../sources/proc-depth-parse.js';
import { isRefusal, type ProcessTable, type ProcReader, type TreeMember, type TreeUsage } from '../sources/proc-tree.js';
import type { SupervisorProcess } from '../sources/supervisor.js';
import { spreadAge } from '../sources/spread-age.js';
import type { FamilyBuilder } from './metric-family.js';
import { serviceLabels, type ServiceLabels } from './service-labels.js';
import { TreeCounter, TreeRows, valueColumn, type PidFate } from './tree-counters.js';

const SERVICE = ['group', 'name'] as const;

/**
 * smaps_rollup makes the kernel walk every mapping of the process (about 100 µs for a Python
 * service, 250 µs on average over this machine's processes), so a process's PSS and swap
 * are read again only after this long: 500 processes would otherwise add some 50 ms to
 * every scrape (docs/performance.md).
 */
export const SMAPS_MAX_AGE_MS = 30_000;

/**
 * A single-threaded process whose CPU time has not moved since its io and status were read
 * has made no I/O and no context switch since (only the process itself moves them): those
 * readings are reused, for at most this long. Its limits are re-read after this long too
 * (prlimit from another process is the one change that needs no run).
 */
export const RESTING_MAX_AGE_MS = 60_000;

interface Resting {
  start: number;
  runtime: string;
  at: number;
  io?: { readBytes: number; writeBytes: number };
  cs?: { voluntary: number; nonvoluntary: number };
}

/** A file the tree could not read; `refused` for a permission problem. */
type Read<T> = { ok: true; value: T } | { ok: false; refused: boolean };

interface Accounts {
  readBytes: TreeCounter;
  writeBytes: TreeCounter;
  voluntary: TreeCounter;
  nonvoluntary: TreeCounter;
  majorFaults: TreeCounter;
}

/** A tree's readings for its five TreeCounters, row for row with a TreeRows. */
/** One tree's figures for one scrape; undefined where a read was refused. */
interface TreeFigures {
  threads: number;
  majorFaults: number;
  io: { read: number; write: number } | undefined;
  ctx: { voluntary: number; nonvoluntary: number } | undefined;
  smaps: { pss: number; swap: number } | undefined;
  fdRatio: number | undefined;
  deleted: number | undefined;
  refused: number;
}

interface Columns {
  faults: Float64Array;
  ioRead: Float64Array;
  ioWrite: Float64Array;
  vol: Float64Array;
  nonvol: Float64Array;
}

export class ServiceDepth {
  /** Monotonic accounts by tree identity (root pid and start time): a restart starts new ones. */
  private readonly accounts = new Map<string, Accounts>();
  private readonly smaps = new Map<number, { start: number; due: number; value: SmapsRollup }>();
  private smapsTable: ProcessTable | undefined;
  private readonly resting = new Map<number, Resting>();
  private readonly limits = new Map<number, { start: number; at: number; value: number }>();
  /** Services already named in the read-errors warning: said once, not every scrape. */
  private readonly warned = new Set<string>();
  /** One tree's members and their five counter readings, reused from tree to tree (NaN: not read). */
  private readonly rows = new TreeRows();
  private cols: Columns = { faults: new Float64Array(16), ioRead: new Float64Array(16), ioWrite: new Float64Array(16), vol: new Float64Array(16), nonvol: new Float64Array(16) };

  constructor(
    private readonly proc: ProcReader,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Adds this scrape's depth families for every service with a process tree in `usage`. */
  add(
    b: FamilyBuilder,
    processes: readonly SupervisorProcess[],
    usage: ReadonlyMap<SupervisorProcess, TreeUsage | undefined>,
    table: ProcessTable,
    labels?: readonly ServiceLabels[],
  ): void {
    const threads = b.gauge('hostaudit_service_threads', 'Threads over the process tree.', SERVICE);
    const io = b.counter(
      'hostaudit_service_io_bytes_total',
      'Storage I/O of the process tree (/proc/PID/io read_bytes, write_bytes), processes that exited included; absent when a process of the tree could not be read.',
      [...SERVICE, 'direction'],
    );
    const ctxsw = b.counter(
      'hostaudit_service_context_switches_total',
      "Context switches of the tree's processes (their main threads, as /proc/PID/status counts them), processes that exited included.",
      [...SERVICE, 'kind'],
    );
    const majflt = b.counter(
      'hostaudit_service_major_page_faults_total',
      'Major page faults of the process tree, reaped children and processes that exited included.',
      SERVICE,
    );
    const pss = b.gauge(
      'hostaudit_service_proportional_memory_bytes',
      `PSS summed over the process tree (memory shared by forked workers counted once), from smaps_rollup; each process's reading is at most ${SMAPS_MAX_AGE_MS / 1000} s old.`,
      SERVICE,
    );
    const swap = b.gauge(
      'hostaudit_service_swap_bytes',
      `Swap used by the process tree, from smaps_rollup; each process's reading is at most ${SMAPS_MAX_AGE_MS / 1000} s old.`,
      SERVICE,
    );
    const fdRatio = b.gauge(
      'hostaudit_service_fd_usage_ratio',
      'The highest open fds / soft NOFILE limit of any process in the tree.',
      SERVICE,
    );
    const deleted = b.gauge(
      'hostaudit_service_deleted_open_bytes',
      'Bytes of deleted regular files the tree holds open (each file once): disk not freed until the service closes them.',
      SERVICE,
    );
    const readErrors = b.gauge(
      'hostaudit_service_read_errors',
      'Processes of the tree whose /proc files could not be read this scrape (a permission problem); the figures that needed them are absent.',
      SERVICE,
    );

    this.pruneSmaps(table);
    const fate = (pid: number, start: number): PidFate => {
      const st = table.byPid.get(pid);
      if (!st || st.starttime !== start) return 'gone';
      return st.state === 'Z' ? 'zombie' : 'alive';
    };
    const live = new Set<string>();
    const refusedServices: string[] = [];
    // Entries sharing one tree (a hostile or confused answer) share its figures: each tree is
    // read and counted once, whatever the number of entries naming it.
    const perTree = new Map<TreeUsage, TreeFigures>();
    for (let pi = 0; pi < processes.length; pi++) {
      const p = processes[pi] as SupervisorProcess;
      const u = usage.get(p);
      if (!u) continue;
      const L = labels?.[pi] ?? serviceLabels(p, p.description);
      const l = L.service;
      const identity = `${u.rootPid}:${u.rootStartTicks}`;
      live.add(identity);
      let f = perTree.get(u);
      if (!f) perTree.set(u, (f = this.treeFigures(u, identity, fate)));

      threads(l, f.threads);
      majflt(l, f.majorFaults);
      if (f.io) {
        io(L.ioRead, f.io.read);
        io(L.ioWrite, f.io.write);
      }
      if (f.ctx) {
        ctxsw(L.voluntary, f.ctx.voluntary);
        ctxsw(L.nonvoluntary, f.ctx.nonvoluntary);
      }
      if (f.smaps) {
        pss(l, f.smaps.pss);
        swap(l, f.smaps.swap);
      }
      if (f.fdRatio !== undefined) fdRatio(l, f.fdRatio);
      if (f.deleted !== undefined) deleted(l, f.deleted);
      readErrors(l, f.refused);
      if (f.refused > 0) refusedServices.push(p.group === p.name ? p.name : `${p.group}:${p.name}`);
    }
    for (const key of this.accounts.keys()) if (!live.has(key)) this.accounts.delete(key);
    this.warnOnce(refusedServices);
  }

  /** One tree's depth figures; its monotonic accounts are kept by the tree's identity (root pid and start). */
  private treeFigures(u: TreeUsage, identity: string, fate: (pid: number, start: number) => PidFate): TreeFigures {
    const acc = this.accountsOf(identity);
    // Members are distinct pids (descendants() visits each once): a count, not a set of them.
    let refusedCount = 0;
    const n = u.members.length;
    const rows = this.rows;
    rows.reset(n);
    const cols = this.columns(n);
    let nThreads = 0;
    let ioOk = true;
    let smapsOk = true;
    let ctxOk = true;
    let pssSum = 0;
    let swapSum = 0;
    let ratio = 0;
    let ratioOk = true;
    for (let i = 0; i < n; i++) {
      const m = u.members[i] as TreeMember;
      const st = m.stat;
      let refused = m.refused === true;
      rows.push(st.pid, st.ppid, st.starttime);
      nThreads += st.threads;
      cols.faults[i] = st.majflt + st.cmajflt;

      const rest = this.restingOf(m);
      const ioReading = rest?.io ? { ok: true as const, value: rest.io } : this.read(`${st.pid}/io`, parseProcIo);
      cols.ioRead[i] = ioReading.ok ? ioReading.value.readBytes : NaN;
      cols.ioWrite[i] = ioReading.ok ? ioReading.value.writeBytes : NaN;
      if (!ioReading.ok && ioReading.refused) {
        ioOk = false;
        refused = true;
      }

      const cs = rest?.cs ? { ok: true as const, value: rest.cs } : this.read(`${st.pid}/status`, parseContextSwitches);
      if (!rest) this.noteResting(m, ioReading.ok ? ioReading.value : undefined, cs.ok ? cs.value : undefined);
      cols.vol[i] = cs.ok ? cs.value.voluntary : NaN;
      cols.nonvol[i] = cs.ok ? cs.value.nonvoluntary : NaN;
      if (!cs.ok && cs.refused) ctxOk = false;

      const sm = this.smapsOf(m);
      if (sm.ok) {
        pssSum += sm.value.pssBytes;
        swapSum += sm.value.swapBytes;
      } else if (sm.refused) {
        smapsOk = false;
        refused = true;
      }

      if (m.fds) {
        const lim = this.nofileOf(st.pid, st.starttime);
        if (lim.ok && lim.value > 0) ratio = Math.max(ratio, m.fds.links.length / lim.value);
        else if (!lim.ok && lim.refused) ratioOk = false;
      } else if (m.refused) ratioOk = false;
      if (refused) refusedCount++;
    }
    return {
      threads: nThreads,
      majorFaults: acc.majorFaults.updateRows(identity, rows, cols.faults, fate),
      io: ioOk ? { read: acc.readBytes.updateRows(identity, rows, cols.ioRead, fate), write: acc.writeBytes.updateRows(identity, rows, cols.ioWrite, fate) } : undefined,
      ctx: ctxOk
        ? { voluntary: acc.voluntary.updateRows(identity, rows, cols.vol, fate), nonvoluntary: acc.nonvoluntary.updateRows(identity, rows, cols.nonvol, fate) }
        : undefined,
      smaps: smapsOk ? { pss: pssSum, swap: swapSum } : undefined,
      fdRatio: ratioOk ? ratio : undefined,
      deleted: u.fdReadErrors === 0 ? deletedOpenBytes(this.proc.root, u.members) : undefined,
      refused: refusedCount,
    };
  }

  /** The five value columns, room for `n` rows. */
  private columns(n: number): Columns {
    const c = this.cols;
    if (c.faults.length < n) {
      this.cols = { faults: valueColumn(c.faults, n), ioRead: valueColumn(c.ioRead, n), ioWrite: valueColumn(c.ioWrite, n), vol: valueColumn(c.vol, n), nonvol: valueColumn(c.nonvol, n) };
    }
    return this.cols;
  }

  private accountsOf(key: string): Accounts {
    let a = this.accounts.get(key);
    if (!a) {
      a = {
        readBytes: new TreeCounter(true),
        writeBytes: new TreeCounter(true),
        voluntary: new TreeCounter(false),
        nonvoluntary: new TreeCounter(false),
        majorFaults: new TreeCounter(true),
      };
      this.accounts.set(key, a);
    }
    return a;
  }

  /** Reads and parses /proc/REL. A file that is gone or does not parse is { ok: false, refused: false }. */
  private read<T>(rel: string, parse: (text: string) => T | undefined): Read<T> {
    let text: string;
    try {
      text = this.proc.readFile(`${this.proc.root}/${rel}`);
    } catch (err) {
      return { ok: false, refused: isRefusal(err) };
    }
    const value = parse(text);
    return value === undefined ? { ok: false, refused: false } : { ok: true, value };
  }

  /** smaps_rollup of one process, from the cache while its reading is younger than SMAPS_MAX_AGE_MS. */
  private smapsOf(m: TreeMember): Read<SmapsRollup> {
    const { pid, starttime } = m.stat;
    const now = this.now();
    const hit = this.smaps.get(pid);
    if (hit && hit.start === starttime && now < hit.due) return { ok: true, value: hit.value };
    const r = this.read(`${pid}/smaps_rollup`, parseSmapsRollup);
    if (!r.ok) {
      this.smaps.delete(pid);
      return r;
    }
    // The first reading's age is staggered by pid, so a host's processes come due on
    // different scrapes rather than all on one.
    const age = hit ? SMAPS_MAX_AGE_MS : 1000 + ((pid * 7919) % (SMAPS_MAX_AGE_MS - 1000));
    this.smaps.set(pid, { start: starttime, due: now + age, value: r.value });
    return r;
  }

  private pruneSmaps(table: ProcessTable): void {
    if (this.smapsTable === table) return;
    this.smapsTable = table;
    for (const cache of [this.smaps, this.resting, this.limits]) for (const pid of cache.keys()) if (!table.byPid.has(pid)) cache.delete(pid);
  }

  /** The last io and status readings of a process that has not run since they were taken. */
  private restingOf(m: TreeMember): Resting | undefined {
    const hit = this.resting.get(m.stat.pid);
    if (!hit || m.stat.threads !== 1 || m.runtime === undefined) return undefined;
    if (hit.start !== m.stat.starttime || hit.runtime !== m.runtime || this.now() - hit.at >= spreadAge(RESTING_MAX_AGE_MS, m.stat.pid)) return undefined;
    return hit;
  }

  /** Keeps readings just taken (not reused ones, which keep their age). */
  private noteResting(m: TreeMember, io: Resting['io'], cs: Resting['cs']): void {
    const { pid, starttime, threads } = m.stat;
    if (threads !== 1 || m.runtime === undefined || !io || !cs) {
      this.resting.delete(pid);
      return;
    }
    this.resting.set(pid, { start: starttime, runtime: m.runtime, at: this.now(), io, cs });
  }

  /** The soft NOFILE limit, re-read after RESTING_MAX_AGE_MS. */
  private nofileOf(pid: number, start: number): Read<number> {
    const now = this.now();
    const hit = this.limits.get(pid);
    if (hit && hit.start === start && now - hit.at < spreadAge(RESTING_MAX_AGE_MS, pid)) return { ok: true, value: hit.value };
    const r = this.read(`${pid}/limits`, parseNofileSoftLimit);
    if (r.ok) this.limits.set(pid, { start, at: now, value: r.value });
    else this.limits.delete(pid);
    return r;
  }

  private warnOnce(services: readonly string[]): void {
    const fresh = services.filter((s) => !this.warned.has(s));
    if (fresh.length === 0) return;
    for (const s of fresh) this.warned.add(s);
    this.log.warn(
      "cannot read some services' /proc files: their open fds, TCP connections, I/O, PSS, swap, fd usage and deleted-file figures are absent (hostaudit_service_read_errors counts the processes); run the exporter as the services' user, or grant it CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH",
      { services: fresh.join(',') },
    );
  }
}

/**
 * Bytes of the deleted regular files a tree holds open, each file once (by device and inode:
 * several fds, or several processes after a fork, often share one). The fd's own stat (through
 * /proc/PID/fd/N, which opens the file the fd holds, not the name) gives the size.
 */
export function deletedOpenBytes(procRoot: string, members: readonly TreeMember[]): number {
  const seen = new Set<string>();
  let total = 0;
  for (const m of members) {
    const fds = m.fds;
    if (!fds) continue;
    for (let i = 0; i < fds.links.length; i++) {
      if (!isDeletedFileLink(fds.links[i] as string)) continue;
      let st;
      try {
        st = statSync(`${procRoot}/${m.stat.pid}/fd/${fds.names[i] as string}`, { bigint: false, throwIfNoEntry: false });
      } catch {
        continue; // closed meanwhile, or not ours
      }
      if (!st || !st.isFile()) continue;
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) continue;
      seen.add(key);
      total += st.size;
    }
  }
  return total;
}
