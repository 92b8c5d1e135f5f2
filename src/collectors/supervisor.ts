// The "supervisor" collector: supervisord's own state, every configured program's state,
// and the CPU, memory, fds, TCP sockets and log bytes of each program's process tree.
import { describeError, isFsError, SourceError } from '../errors.js';
import type { Logger } from '../log.js';
import { readdirSync } from 'node:fs';
import { ProcReader, type TreeUsage } from '../sources/proc-tree.js';
import { liveLogStat, withBackups } from '../sources/service-logs.js';
import { listExpectedMs, listTimeoutMs, STATE_NAMES, SupervisorClient, type SupervisorProcess, type SupervisorSnapshot } from '../sources/supervisor.js';
import { SupervisorError } from '../sources/supervisor-error.js';
import { WorkSlicer } from '../sources/work-slicer.js';
import type { CollectContext, Collector, CollectorDeps } from './collector.js';
import { FamilyBuilder, type Labels, type MetricFamily } from './metric-family.js';
import { childrenInclude, listStillCurrent, supervisordAtWork } from './process-list-reuse.js';
import { RestartTracker } from './restart-tracker.js';
import { namespaceTcp, processTable } from './shared-readings.js';
import { supervisorFailure } from './supervisor-failure.js';
import { FAILURE_TEXT, type SupervisorFailure } from '../sources/supervisor-error.js';
import { ServiceDepth } from './service-depth.js';
import { ServiceLogInfo } from './service-log-info.js';
import { ServiceLabelCache, type ServiceLabels } from './service-labels.js';
import type { ServiceLogFiles } from '../sources/service-log-files.js';

const SERVICE = ['group', 'name'] as const;

/** The background poll asks supervisord at least this often, even when nothing seems to change. */
const QUIET_MAX_MS = 30_000;

/**
 * How often the poll asks for the full list while nothing seems to change: every QUIET_MAX_MS,
 * or less often when listing costs supervisord more, so that listing takes at most 1/200 of
 * its time. supervisord builds the list in Python, in seconds of its CPU for thousands of
 * programs: asked every 30 s, that is a real load on the host being watched (docs/design.md).
 * `askMs`: how long the last full list took to come. Capped at 10 minutes. Pure.
 */
export function quietMaxMs(askMs: number): number {
  return Math.min(600_000, Math.max(QUIET_MAX_MS, 200 * askMs));
}

/**
 * A scrape may reuse supervisord's last full process list (process-list-reuse.ts says when
 * that is safe) only from this many processes on: below it supervisord lists them in a few
 * milliseconds and every scrape asks for the list. The age bound lets the poll, which asks
 * at least every quietMaxMs(), renew the list before a scrape would have to.
 */
const REUSE_MIN_PROCESSES = 100;
const REUSE_SLACK_MS = 5_000;

interface CpuHighWater {
  identity: string;
  user: number;
  system: number;
}

export class SupervisorCollector implements Collector {
  readonly name = 'supervisor';
  readonly restarts = new RestartTracker();
  private readonly cpu = new Map<string, CpuHighWater>();
  private poller: NodeJS.Timeout | undefined;
  private polling = false;
  private lastUp: boolean | undefined;
  private stopping = new AbortController();
  /**
   * While every process is RUNNING (or STOPPED or FATAL, which only an operator changes), the
   * background poll checks that the RUNNING pids still exist (one readdir of /proc) instead of
   * asking supervisord: a restart ends the old pid, so it is noticed at the same poll as before,
   * for a fraction of the cost of an XML-RPC round trip (and of supervisord's own CPU). Any
   * vanished pid, any other state, or quietMaxMs() since supervisord was last asked, and the poll
   * asks supervisord again. undefined: ask. (A pid reused within one poll interval could hide a
   * restart until the next scrape or quietMaxMs(); the scrape itself always asks supervisord.)
   */
  private quiet: Set<number> | undefined;
  /** supervisord's children file as last read while it listed every pid of `quiet`. */
  private quietChildren: { quiet: Set<number>; text: string } | undefined;
  private lastAsked = 0;
  /** How long the last full list took to come (ms): its cost to supervisord sets quietMaxMs. */
  private lastAskMs = 0;
  /**
   * The full list being asked for, shared by the poll and every scrape meanwhile: supervisord
   * is never asked for a second copy while it is still writing the first.
   */
  private listing: Promise<SupervisorSnapshot> | undefined;
  /** When `listing` was asked for (performance.now()). */
  private listingSince = 0;
  /** Lists in a row that ran out of time: each doubles the next one's bound (listTimeoutMs). */
  private listTimeouts = 0;
  /** supervisord's last full answer, from a scrape or the poll, and when it came. */
  private known: { snap: SupervisorSnapshot; at: number } | undefined;
  /** Why the last scrape could not read supervisord; undefined once it answers (the audit report names it). */
  lastFailure: { failure: SupervisorFailure; error: string } | undefined;
  /** Threads, I/O, PSS, fd ratio, deleted bytes… of each tree (collectors/service-depth.ts). */
  private readonly depth: ServiceDepth;
  /** Log mtimes, rotation settings, expect_log_write_within (collectors/service-log-info.ts). */
  private readonly logInfo: ServiceLogInfo;
  /** The label objects of each process's series, kept while the process list is reused. */
  private readonly labels = new ServiceLabelCache(stableDescription);

  constructor(
    private readonly client: SupervisorClient,
    private readonly pollIntervalMs: number,
    private readonly log: Logger,
    private readonly proc: ProcReader = new ProcReader(),
    logWriteWithin: ReadonlyMap<string, number> = new Map(),
    private readonly serviceLogs?: ServiceLogFiles,
  ) {
    this.depth = new ServiceDepth(proc, log);
    this.logInfo = new ServiceLogInfo(client, logWriteWithin, log, this.stopping.signal);
  }

  start(): void {
    // Background poll so restarts between scrapes are counted. unref: never keeps the process alive.
    this.poller = setInterval(() => void this.poll(), this.pollIntervalMs);
    this.poller.unref();
    void this.poll();
  }

  async stop(): Promise<void> {
    clearInterval(this.poller);
    this.stopping.abort();
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      if (this.stillQuiet()) return;
      await this.list();
    } catch (err) {
      const failure = err instanceof SupervisorError ? { failure: err.failure } : {};
      // A bug in the poll is said at error level; the next poll runs all the same.
      this.log.log(err instanceof SourceError ? 'debug' : 'error', 'supervisor poll failed', { ...failure, err: describeError(err) });
    } finally {
      this.polling = false;
    }
  }

  /**
   * supervisord's full list: the one already asked for, or a new ask. Bounded by
   * listTimeoutMs, not by the scrape that may be waiting (see waitForList): a list that takes
   * supervisord longer than a scrape's timeout is still heard, and kept for the next one.
   */
  private list(): Promise<SupervisorSnapshot> {
    if (this.listing) return this.listing;
    const t0 = performance.now();
    this.listingSince = t0;
    const bound = listTimeoutMs(this.client.timeoutMs, this.lastAskMs, this.listTimeouts);
    const p = this.client.snapshot(this.stopping.signal, bound).then(
      (snap) => {
        this.lastAskMs = performance.now() - t0;
        this.listTimeouts = 0;
        this.remember(snap);
        return snap;
      },
      (err: unknown) => {
        this.listTimeouts = err instanceof SupervisorError && err.failure === 'timeout' ? this.listTimeouts + 1 : 0;
        this.quiet = undefined;
        this.known = undefined;
        throw err;
      },
    );
    this.listing = p;
    // Whoever stopped waiting (a scrape past its timeout), the outcome is handled here.
    p.catch(() => undefined).finally(() => {
      if (this.listing === p) this.listing = undefined;
    });
    return p;
  }

  /** The full list for a scrape: waits for it at most `supervisor.timeout` and until the scrape's deadline. */
  private async waitForList(signal: AbortSignal): Promise<SupervisorSnapshot> {
    const list = this.list();
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      return await Promise.race([
        list,
        new Promise<never>((_, reject) => {
          const url = this.client.url;
          const give = (why: string): void => reject(new SupervisorError('timeout', `${url}: ${why}`));
          timer = setTimeout(() => give(`no answer within ${this.client.timeoutMs}ms (the list is still awaited in the background)`), this.client.timeoutMs);
          onAbort = () => give('no answer before the collector deadline');
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  private stillQuiet(): boolean {
    if (!this.quiet || Date.now() - this.lastAsked >= quietMaxMs(this.lastAskMs)) return false;
    if (this.quiet.size === 0) return true;
    if (this.childrenShowQuiet(this.quiet)) return true;
    let present: string[];
    try {
      present = readdirSync(this.proc.root); // one getdents for any number of pids
    } catch {
      return false;
    }
    const alive = new Set(present);
    for (const pid of this.quiet) if (!alive.has(String(pid))) return false;
    return true;
  }

  /**
   * The poll's cheap check, before a readdir of /proc (thousands of names on a large host,
   * every poll_interval): supervisord's own children file, one small read, lists every quiet
   * pid; the same text as last time needs no parse. Any doubt (no such file: a kernel without
   * it, another pid namespace; a pid not listed) leaves the answer to the readdir.
   */
  private childrenShowQuiet(quiet: Set<number>): boolean {
    const sup = this.known?.snap.pid;
    if (sup === undefined || !(sup > 0)) return false;
    let text: string;
    try {
      text = this.proc.childrenText(sup);
    } catch (err) {
      if (isFsError(err)) return false;
      throw err;
    }
    const last = this.quietChildren;
    if (last?.quiet === quiet && last.text === text) return true;
    if (!childrenInclude(text, quiet)) return false;
    this.quietChildren = { quiet, text };
    return true;
  }

  /** A full answer from supervisord: restarts counted, kept for reuse, quiet or not. */
  private remember(snap: SupervisorSnapshot): void {
    this.restarts.observe(snap.processes);
    this.serviceLogs?.update(snap.processes);
    this.noteQuiet(snap.processes);
    this.known = { snap, at: Date.now() };
  }

  /**
   * This scrape's view of supervisord. supervisord is always asked (so `up` says it answered
   * this scrape); on a large host, while /proc shows no process started or ended under it, the
   * last full process list is served instead of a new one, and its age is reported.
   */
  private async read(ctx: CollectContext): Promise<{ snap: SupervisorSnapshot; listAge: number }> {
    const k = this.known;
    if (k && k.snap.processes.length >= REUSE_MIN_PROCESSES && Date.now() - k.at < quietMaxMs(this.lastAskMs) + REUSE_SLACK_MS) {
      // supervisord answers one call at a time: while it writes a full list (the poll's), a
      // head call waits behind it, seconds on a large host. For as long as that list is
      // expected to take, supervisord at work on it, as /proc shows, stands for its head.
      const busy = this.listing !== undefined && performance.now() - this.listingSince < listExpectedMs(this.client.timeoutMs, this.lastAskMs);
      const head = busy ? k.snap : await this.client.head(ctx.signal);
      let current = false;
      try {
        const table = processTable(ctx, this.proc);
        current =
          head.pid === k.snap.pid &&
          (!busy || supervisordAtWork(table, k.snap.pid)) &&
          listStillCurrent(k.snap, table, this.proc.bootTimeSeconds(), this.proc.systemConstants().clockTicks);
      } catch {
        // /proc could not tell: supervisord's own list, as below
      }
      if (current) return { snap: { ...head, processes: k.snap.processes }, listAge: (Date.now() - k.at) / 1000 };
    }
    return { snap: await this.waitForList(ctx.signal), listAge: 0 };
  }

  /** After a full answer from supervisord: can the next polls skip asking it? */
  private noteQuiet(processes: readonly SupervisorProcess[]): void {
    this.lastAsked = Date.now();
    this.quiet = undefined;
    const running = new Set<number>();
    for (const p of processes) {
      if (p.state === 'RUNNING' && p.pid > 0) running.add(p.pid);
      // STARTING, BACKOFF, STOPPING, EXITED (supervisord may restart it), UNKNOWN: keep asking.
      else if (p.state !== 'STOPPED' && p.state !== 'FATAL') return;
    }
    this.quiet = running;
  }

  async collect(ctx: CollectContext): Promise<MetricFamily[]> {
    const b = new FamilyBuilder();
    const up = b.gauge('hostaudit_supervisor_up', "Whether supervisord answered this scrape (1) or not (0); while it writes the background poll's full process list, whether /proc shows it at work on it.");
    let snap: SupervisorSnapshot;
    let listAge: number;
    try {
      ({ snap, listAge } = await this.read(ctx));
    } catch (err) {
      // Only supervisord's failures mean "down"; anything else is a bug and fails the collector.
      if (!(err instanceof SourceError)) throw err;
      // Said once at warn when it goes away, then at debug: a down supervisord must not flood the log.
      this.lastFailure = { failure: supervisorFailure(err), error: describeError(err) };
      ctx.log.log(this.lastUp === false ? 'debug' : 'warn', 'supervisord did not answer', { failure: this.lastFailure.failure, why: FAILURE_TEXT[this.lastFailure.failure], err: describeError(err) });
      this.lastUp = false;
      this.quiet = undefined;
      this.known = undefined;
      up({}, 0);
      return b.build(); // no per-service series: nothing stale survives supervisord going away
    }
    this.lastFailure = undefined;
    if (this.lastUp === false) ctx.log.info('supervisord answers again', { url: snap.url });
    this.lastUp = true;
    up({}, 1);
    b.gauge(
      'hostaudit_supervisor_process_list_age_seconds',
      "Age of the process list served: 0 when supervisord listed its processes for this scrape; on hosts of 100 processes or more, the age of the last list while /proc shows no process started or ended since.",
    )({}, listAge);
    b.gauge('hostaudit_supervisor_info', 'supervisord version and identification; value is always 1.', [
      'version',
      'identification',
      'state',
    ])({ version: snap.version, identification: snap.identification, state: snap.state }, 1);

    const info = b.gauge('hostaudit_service_info', 'One series per program process configured in supervisord; value is always 1.', [
      ...SERVICE,
      'description',
    ]);
    const state = b.gauge(
      'hostaudit_service_state',
      'Supervisor state of the process: 1 for the current state, 0 for the other seven.',
      [...SERVICE, 'state'],
    );
    const upG = b.gauge('hostaudit_service_up', 'Whether the process is RUNNING (1) or not (0).', SERVICE);
    const startTime = b.gauge('hostaudit_service_start_time_seconds', 'Unix time the current process started.', SERVICE);
    const exitStatus = b.gauge('hostaudit_service_exit_status', 'Exit status of the last exit.', SERVICE);
    const restarts = b.counter(
      'hostaudit_service_restarts_total',
      'Starts of the process seen after the first, counted by the exporter.',
      SERVICE,
    );
    const cpu = b.counter(
      'hostaudit_service_cpu_seconds_total',
      'CPU time of the process tree (children included), by mode.',
      [...SERVICE, 'mode'],
    );
    const rss = b.gauge('hostaudit_service_resident_memory_bytes', 'Resident memory of the process tree.', SERVICE);
    const vms = b.gauge('hostaudit_service_virtual_memory_bytes', 'Virtual memory of the process tree.', SERVICE);
    const procs = b.gauge('hostaudit_service_processes', 'Processes in the tree.', SERVICE);
    const fds = b.gauge('hostaudit_service_open_fds', 'Open file descriptors of the process tree.', SERVICE);
    const tcp = b.gauge('hostaudit_service_tcp_connections', 'TCP sockets (any state) held by the process tree.', SERVICE);
    const logBytes = b.gauge(
      'hostaudit_service_log_bytes',
      "Bytes of the process's log file plus its rotated backups (.1 … .N).",
      [...SERVICE, 'stream'],
    );

    // One /proc pass for all services; a failure here must not hide supervisor state. Past the
    // deadline the collector has failed anyway: the abort ends it, not a quiet partial answer.
    let usage = new Map<SupervisorProcess, TreeUsage | undefined>();
    let sockets = new Map<number, ReadonlySet<number>>();
    try {
      ({ usage, sockets } = await this.readProc(snap.processes, ctx));
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      ctx.log.warn('reading /proc failed', { err: describeError(err) });
    }

    // One lstat of each live log serves both its bytes (here) and its mtime (logInfo below).
    const live = liveLogs(snap.processes);

    const labels = this.labels.of(snap.processes);
    const liveKeys = new Set<string>();
    const emit = (p: SupervisorProcess, i: number): void => {
      const L = labels[i] as ServiceLabels;
      const l = L.service;
      info(L.info, 1);
      for (let k = 0; k < STATE_NAMES.length; k++) state(L.states[k] as Labels, STATE_NAMES[k] === p.state ? 1 : 0);
      upG(l, p.state === 'RUNNING' ? 1 : 0);
      if (p.start > 0) startTime(l, p.start);
      exitStatus(l, p.exitStatus);
      restarts(l, this.restarts.restarts(p));

      const out = withBackups(p.stdoutLogfile, reading(live.size[2 * i]));
      const err = withBackups(p.stderrLogfile, reading(live.size[2 * i + 1]));
      if (out !== undefined) logBytes(L.stdout, out);
      if (err !== undefined) logBytes(L.stderr, err);

      const u = usage.get(p);
      if (!u) {
        procs(l, 0);
        rss(l, 0);
        vms(l, 0);
        fds(l, 0);
        tcp(l, 0);
        return;
      }
      liveKeys.add(L.key);
      const c = this.monotonicCpu(L.key, u);
      cpu(L.cpuUser, c.user);
      cpu(L.cpuSystem, c.system);
      rss(l, u.residentBytes);
      vms(l, u.virtualBytes);
      procs(l, u.processes);
      // A process whose fds may not be read would count as 0: absent instead (read_errors says why).
      if (u.fdReadErrors > 0) return;
      fds(l, u.openFds);
      const ns = sockets.get(u.rootPid);
      let n = 0;
      if (ns) for (const inode of u.socketInodes) if (ns.has(inode)) n++;
      tcp(l, n);
    };
    // In slices, as the /proc reads: thousands of entries must not hold the event loop.
    const slice = new WorkSlicer(ctx.signal);
    for (let i = 0; i < snap.processes.length; i++) {
      await slice.next();
      emit(snap.processes[i] as SupervisorProcess, i);
    }
    if (usage.size > 0) this.depth.add(b, snap.processes, usage, processTable(ctx, this.proc), labels);
    await this.logInfo.add(b, snap.processes, labels, live.mtimeMs, ctx.signal);
    for (const key of this.cpu.keys()) if (!liveKeys.has(key)) this.cpu.delete(key);
    return b.build();
  }

  /** Process trees of the running services and, for trees holding a socket, their namespace's TCP socket inodes. */
  private async readProc(processes: readonly SupervisorProcess[], ctx: CollectContext): Promise<{
    usage: Map<SupervisorProcess, TreeUsage | undefined>;
    sockets: Map<number, ReadonlySet<number>>;
  }> {
    const usage = new Map<SupervisorProcess, TreeUsage | undefined>();
    const sockets = new Map<number, ReadonlySet<number>>();
    const running = processes.filter((p) => p.pid > 0);
    if (running.length === 0) return { usage, sockets };
    const table = processTable(ctx, this.proc);
    const byTable = new Map<object, ReadonlySet<number>>();
    // One tree per distinct root pid (entries may share one: a hostile or confused answer),
    // read in slices that give the event loop back and stop once the deadline has passed.
    const trees = new Map<number, TreeUsage | undefined>();
    const slice = new WorkSlicer(ctx.signal);
    for (const p of running) {
      if (trees.has(p.pid)) {
        usage.set(p, trees.get(p.pid));
        continue;
      }
      await slice.next();
      const u = this.proc.treeUsage(table, p.pid);
      trees.set(p.pid, u);
      usage.set(p, u);
      if (!u) continue; // exited between supervisor's answer and our read: skipped, not an error
      if (u.socketInodes.size === 0) continue; // no socket at all: no TCP table to read for it
      const tcp = await namespaceTcp(ctx, p.pid, this.proc.root);
      if (!tcp) continue;
      let inodes = byTable.get(tcp);
      if (!inodes) byTable.set(tcp, (inodes = new Set(tcp.map((s) => s.inode))));
      sockets.set(u.rootPid, inodes);
    }
    return { usage, sockets };
  }

  /**
   * CPU totals never decrease for one incarnation of a service: a descendant that is
   * re-parented out of the tree (double fork) would otherwise look like a counter reset and
   * make rate() jump. A new root process (restart) legitimately resets the counter.
   */
  private monotonicCpu(key: string, u: TreeUsage): { user: number; system: number } {
    const identity = `${u.rootPid}:${u.rootStartTicks}`;
    const prev = this.cpu.get(key);
    if (!prev || prev.identity !== identity) {
      this.cpu.set(key, { identity, user: u.userSeconds, system: u.systemSeconds });
      return { user: u.userSeconds, system: u.systemSeconds };
    }
    prev.user = Math.max(prev.user, u.userSeconds);
    prev.system = Math.max(prev.system, u.systemSeconds);
    return { user: prev.user, system: prev.system };
  }
}

/**
 * Size and mtime (ms) of each process's live stdout (index 2i) and stderr (2i + 1) log, one
 * lstat each; NaN for a log that is not a regular file. Numbers, not the Stats objects, are
 * kept: they outlive the event loop slices of the collection.
 */
function liveLogs(processes: readonly SupervisorProcess[]): { size: Float64Array; mtimeMs: Float64Array } {
  const size = new Float64Array(2 * processes.length).fill(NaN);
  const mtimeMs = new Float64Array(2 * processes.length).fill(NaN);
  for (let i = 0; i < processes.length; i++) {
    const p = processes[i] as SupervisorProcess;
    for (let j = 0; j < 2; j++) {
      const st = liveLogStat(j === 0 ? p.stdoutLogfile : p.stderrLogfile);
      if (!st) continue;
      size[2 * i + j] = st.size;
      mtimeMs[2 * i + j] = st.mtimeMs;
    }
  }
  return { size, mtimeMs };
}

/** A reading of liveLogs, undefined for its NaN. */
const reading = (n: number | undefined): number | undefined => (n === undefined || Number.isNaN(n) ? undefined : n);

/**
 * supervisord describes a RUNNING process as "pid 1234, uptime 0:05:12": the uptime ticks, so
 * as a label it would start a new series every scrape. It is cut (the uptime is
 * time() - hostaudit_service_start_time_seconds); every other description is kept as given.
 */
export function stableDescription(description: string): string {
  const m = /^(pid \d+), uptime .*$/.exec(description);
  return m ? (m[1] as string) : description;
}

export function createSupervisorCollector(deps: CollectorDeps): Collector {
  return new SupervisorCollector(new SupervisorClient(deps.config.supervisor), deps.config.supervisor.pollIntervalMs, deps.log, deps.proc, deps.config.logWriteWithin, deps.serviceLogs);
}
