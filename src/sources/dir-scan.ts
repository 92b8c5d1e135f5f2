// Measures a directory tree the way `du -sb` does: apparent sizes (lstat st_size), every
// entry counted (the root and every directory included), symlinks never followed and counted
// by their own size, each inode counted once (keyed by device and inode). I/O only.
//
// The walk is synchronous (one readdirSync per directory, one lstatSync per entry, no promise
// or callback per file) and runs in worker threads, so the event loop keeps serving scrapes.
// Async per-file calls through libuv's threadpool (5-15x du) and get-folder-size (17-26x du,
// 4.5 GB for 1M files) were measured far slower; one synchronous thread costs about twice
// du's CPU (Node's lstat resolves a full path where du's fts uses fstatat on a directory fd,
// and builds a Stats object), so a scan shares the tree between a small pool of walkers.
// docs/design.md "Directory walk" and docs/performance.md "Directory scans" have the figures.
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export interface ScanRequest {
  root: string;
  /** Regular files with mtime >= each cutoff (ms since epoch) are counted, in this order. */
  modifiedSince: number[];
  /**
   * Directories inside the tree to measure in the same walk, each as if walked on its own
   * (its own hardlink set and cutoffs): a configured path inside another is not walked twice.
   */
  within?: Array<{ root: string; modifiedSince: number[] }>;
}

export interface ScanResult {
  root: string;
  /** false when the root itself could not be read (missing, not permitted). */
  ok: boolean;
  /** Sum of apparent sizes, as `du -sb`. */
  bytes: number;
  /** Regular files: directory entries, as `find -type f` counts them (two links, two files). */
  files: number;
  /** Regular files modified at or after each of ScanRequest.modifiedSince. */
  filesModified: number[];
  /** Entries that could not be read: an unreadable directory, an entry gone before lstat. */
  errors: number;
  /** Wall-clock time the walk started and how long it took (ms). */
  startedAt: number;
  durationMs: number;
  /** The first few errors, for a debug log line. */
  errorSamples: string[];
  /**
   * ScanRequest.within's results, in its order; undefined for one the walk did not reach as
   * a directory (a symlink, gone, unreadable on the way): the caller scans that one on its own.
   */
  within?: Array<ScanResult | undefined>;
}

const MAX_ERROR_SAMPLES = 5;
/** Hoisted: one options object for every lstat of a walk. */
const NO_THROW = { throwIfNoEntry: false } as const;

/** A directory still to be read, with the dev:ino keys of its ancestors (cycle detection). */
export interface DirTask {
  dir: string;
  ancestors: string[];
  /** The scan root: lstat it and count it first. */
  root?: boolean;
  /** Indexes of ScanRequest.within that contain this directory. */
  within?: number[];
}

/** Counts from one walker; multiply-linked inodes are kept apart so walkers can be merged. */
export interface PartialCounts {
  bytes: number;
  files: number;
  filesModified: number[];
  errors: number;
  errorSamples: string[];
  /** Non-directories with nlink > 1, [dev, ino, size], each once per walker. */
  linked: Array<[number, number, number]>;
  /** Counts of each of ScanRequest.within, and whether this walker reached it. */
  within?: Array<PartialCounts & { reached: boolean }>;
}

interface Pending {
  dir: string;
  key: string;
  parent: Pending | undefined;
  /** Indexes of the `within` directories this one is inside (or is). */
  within: readonly number[];
  /** A directory whose listing was interrupted (a walk on the event loop yields): its names and the next one. */
  names?: string[];
  next?: number;
}

const NONE: readonly number[] = [];

/** One tree's counts inside a walk: the scan root's, or one of ScanRequest.within's. */
class Tally {
  readonly counts: PartialCounts;
  readonly linked = new Map<number, Map<number, number>>();
  reached = false;

  constructor(readonly cutoffs: readonly number[]) {
    this.counts = { bytes: 0, files: 0, filesModified: cutoffs.map(() => 0), errors: 0, errorSamples: [], linked: [] };
  }

  fail(path: string, err: unknown): void {
    const c = this.counts;
    c.errors++;
    if (c.errorSamples.length < MAX_ERROR_SAMPLES) {
      c.errorSamples.push(`${(err as NodeJS.ErrnoException | undefined)?.code ?? 'ENOENT'} ${path}`);
    }
  }

  add(st: Stats): void {
    const c = this.counts;
    if (st.isDirectory()) {
      c.bytes += st.size;
      return;
    }
    if (st.nlink > 1) {
      let inodes = this.linked.get(st.dev);
      if (!inodes) this.linked.set(st.dev, (inodes = new Map()));
      inodes.set(st.ino, st.size); // summed once, after walkers are merged
    } else {
      c.bytes += st.size;
    }
    if (st.isFile()) {
      c.files++;
      const m = st.mtimeMs;
      const cut = this.cutoffs;
      for (let i = 0; i < cut.length; i++) if (m >= (cut[i] as number)) (c.filesModified[i] as number)++;
    }
  }

  finish(): PartialCounts {
    const linked: Array<[number, number, number]> = [];
    for (const [dev, inodes] of this.linked) for (const [ino, size] of inodes) linked.push([dev, ino, size]);
    this.linked.clear();
    return { ...this.counts, linked };
  }
}

/**
 * One walker's state: a depth-first stack of directories to read. Inodes are remembered only
 * for non-directories with more than one link (a file with one link cannot be met twice when
 * symlinks are not followed), so a tree of a million ordinary files needs no inode table.
 */
export class Walker {
  private readonly root: Tally;
  private readonly within: Tally[];
  private readonly withinIndex = new Map<string, number>();
  private readonly stack: Pending[] = [];
  /** Entries counted so far (a walk on the event loop hands over to threads past a bound). */
  visited = 0;

  constructor(cutoffs: readonly number[], within: ReadonlyArray<{ root: string; modifiedSince: readonly number[] }> = []) {
    this.root = new Tally(cutoffs);
    this.within = within.map((w) => new Tally(w.modifiedSince));
    within.forEach((w, i) => this.withinIndex.set(w.root, i));
  }

  /** The scan root's counts so far. */
  get counts(): PartialCounts {
    return this.root.counts;
  }

  private fail(path: string, err: unknown, within: readonly number[]): void {
    this.root.fail(path, err);
    for (const i of within) (this.within[i] as Tally).fail(path, err);
  }

  /** Counts one entry; a directory is queued for reading. */
  private visit(path: string, st: Stats, parent: Pending | undefined, inherited: readonly number[]): void {
    this.visited++;
    let within = inherited;
    if (st.isDirectory() && this.withinIndex.size > 0) {
      const i = this.withinIndex.get(path);
      if (i !== undefined) {
        within = [...inherited, i];
        (this.within[i] as Tally).reached = true;
      }
    }
    this.root.add(st);
    for (const i of within) (this.within[i] as Tally).add(st);
    if (st.isDirectory()) {
      const key = `${st.dev}:${st.ino}`;
      for (let a = parent; a; a = a.parent) if (a.key === key) return; // a bind mount containing itself: du skips it
      this.stack.push({ dir: path === '/' ? '' : path, key, parent, within });
    }
  }

  /**
   * Walks one task to the end, handing directories to `donate` while `wantsWork` says another
   * walker is idle. Returns false when the task is the root and the root cannot be read.
   */
  run(task: DirTask, wantsWork: () => boolean = () => false, donate: (t: DirTask) => void = () => undefined): boolean {
    if (!this.begin(task)) return false;
    this.drain(() => false, wantsWork, donate);
    return true;
  }

  /** Takes a task; false when it is the root and the root cannot be read. */
  begin(task: DirTask): boolean {
    let parent: Pending | undefined;
    for (const key of task.ancestors) parent = { dir: '', key, parent, within: NONE };
    if (task.root) {
      let st: Stats | undefined;
      try {
        st = lstatSync(task.dir, NO_THROW);
      } catch (err) {
        this.fail(task.dir, err, NONE);
        return false;
      }
      if (!st) {
        this.fail(task.dir, undefined, NONE);
        return false;
      }
      this.visit(task.dir, st, parent, NONE);
    } else {
      this.stack.push({ dir: task.dir, key: task.ancestors[task.ancestors.length - 1] ?? '', parent: parent?.parent, within: task.within ?? NONE });
    }
    return true;
  }

  /**
   * Reads pending directories until none is left (true) or `stop` says so (false: call
   * again). `stop(false)` is asked before each directory, `stop(true)` every 256 entries inside
   * one, which is then resumed where it was; so when the last stop was between directories
   * (`midListing()` false) the rest can be handed over with takePending.
   */
  drain(stop: (insideDirectory: boolean) => boolean, wantsWork: () => boolean = () => false, donate: (t: DirTask) => void = () => undefined): boolean {
    const stack = this.stack;
    // Every call reads at least one directory (or 256 entries of one) before it may stop, so
    // a caller that stops at once still gets through the tree.
    let first = true;
    while (stack.length > 0) {
      if (!first && stop(false)) return false;
      first = false;
      // The shallowest pending directory is the biggest piece of work to hand an idle walker.
      if (stack.length > 1 && wantsWork()) {
        donate(asTask(stack.shift() as Pending));
        continue;
      }
      const d = stack.pop() as Pending;
      let names = d.names;
      if (!names) {
        try {
          names = readdirSync(d.dir || '/');
        } catch (err) {
          // du counts an unreadable directory's own size (done in visit) and reports it; so do we.
          this.fail(d.dir || '/', err, d.within);
          continue;
        }
      }
      const resumeAt = d.next ?? 0;
      for (let i = resumeAt; i < names.length; i++) {
        if (i !== resumeAt && (i & 255) === 255 && stop(true)) {
          d.names = names;
          d.next = i;
          stack.push(d);
          return false;
        }
        const name = names[i] as string;
        const path = `${d.dir}/${name}`;
        let st: Stats | undefined;
        try {
          st = lstatSync(path, NO_THROW);
        } catch (err) {
          this.fail(path, err, d.within); // EACCES on a parent that lost its x bit mid-walk, …
          continue;
        }
        // Gone between readdir and lstat: du says "cannot access" and counts an error too.
        if (!st) this.fail(path, undefined, d.within);
        else this.visit(path, st, d, d.within);
      }
    }
    return true;
  }

  /** Whether a directory's listing was interrupted: its rest cannot be handed over as a task. */
  midListing(): boolean {
    return this.stack.some((d) => d.names !== undefined);
  }

  /** The directories still to read, as tasks for other walkers; this walker keeps none. */
  takePending(): DirTask[] {
    const out = this.stack.map(asTask);
    this.stack.length = 0;
    return out;
  }

  /** The counts with the multiply-linked inodes listed for merging. */
  finish(): PartialCounts {
    const out = this.root.finish();
    if (this.within.length > 0) out.within = this.within.map((t) => ({ ...t.finish(), reached: t.reached }));
    return out;
  }
}

/** A pending directory as a task another walker can take: its ancestors' keys travel with it. */
function asTask(d: Pending): DirTask {
  const ancestors: string[] = [];
  for (let a: Pending | undefined = d; a; a = a.parent) ancestors.unshift(a.key);
  return { dir: d.dir, ancestors, ...(d.within.length > 0 ? { within: [...d.within] } : {}) };
}

/** Merges walkers' counts into a result; each multiply-linked inode's size is added once. */
export function mergeCounts(req: ScanRequest, parts: PartialCounts[], startedAt: number, durationMs: number, rootOk: boolean): ScanResult {
  const res = mergeOne(req, parts, startedAt, durationMs, rootOk);
  if (req.within && req.within.length > 0) {
    res.within = req.within.map((w, i) => {
      const subs = parts.map((p) => p.within?.[i]).filter((c): c is PartialCounts & { reached: boolean } => c !== undefined);
      if (!subs.some((c) => c.reached)) return undefined;
      return mergeOne({ root: w.root, modifiedSince: w.modifiedSince }, subs, startedAt, durationMs, true);
    });
  }
  return res;
}

function mergeOne(req: ScanRequest, parts: PartialCounts[], startedAt: number, durationMs: number, rootOk: boolean): ScanResult {
  const res: ScanResult = {
    root: req.root,
    ok: rootOk,
    bytes: 0,
    files: 0,
    filesModified: req.modifiedSince.map(() => 0),
    errors: 0,
    startedAt,
    durationMs,
    errorSamples: [],
  };
  const seen = new Map<number, Set<number>>();
  for (const p of parts) {
    res.bytes += p.bytes;
    res.files += p.files;
    p.filesModified.forEach((n, i) => ((res.filesModified[i] as number) += n));
    res.errors += p.errors;
    for (const s of p.errorSamples) if (res.errorSamples.length < MAX_ERROR_SAMPLES) res.errorSamples.push(s);
    for (const [dev, ino, size] of p.linked) {
      let inodes = seen.get(dev);
      if (!inodes) seen.set(dev, (inodes = new Set()));
      if (inodes.has(ino)) continue;
      inodes.add(ino);
      res.bytes += size;
    }
  }
  return res;
}

/** The whole walk on the calling thread (unit tests, and small trees). */
export function walkSync(req: ScanRequest): ScanResult {
  const startedAt = Date.now();
  const t0 = performance.now();
  const w = new Walker(req.modifiedSince, req.within);
  const rootOk = w.run({ dir: req.root, ancestors: [], root: true });
  const part = w.finish();
  return mergeCounts(req, [part], startedAt, performance.now() - t0, rootOk);
}

// ---- the walker pool ------------------------------------------------------------------------

export type ToWorker =
  | { type: 'begin'; cutoffs: number[]; within?: ScanRequest['within']; hungry: SharedArrayBuffer }
  | { type: 'task'; task: DirTask }
  | { type: 'finish' };
export type FromWorker =
  | { type: 'task'; task: DirTask }
  | { type: 'idle'; rootFailed?: boolean }
  | { type: 'result'; counts: PartialCounts };

/** Niceness of walker threads (main thread unchanged): scrapes and the host's services come first. */
export const WALKER_NICE = 10;

/** Walkers per scan: two share the work well; more only contend for the same disk. */
export function defaultWalkers(): number {
  return Math.max(1, Math.min(2, availableParallelism()));
}

function spawnWalker(): Worker {
  const opts = {
    // Bounds a pathological tree (a directory of tens of millions of names) to a failed scan,
    // not an exporter out of memory; the small young generation keeps RSS flat.
    resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 256 },
  };
  if (import.meta.url.endsWith('.ts')) {
    // Running from source under tsx (tests): Node 20 does not hand tsx's loader to workers,
    // so the worker registers it before importing the TypeScript entry.
    const tsx = import.meta.resolve('tsx/esm/api');
    const entry = new URL('./dir-scan-worker.ts', import.meta.url).href;
    const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    return new Worker(code, { ...opts, eval: true });
  }
  return new Worker(new URL('./dir-scan-worker.js', import.meta.url), opts);
}

/**
 * A small pool of walker threads that scans one tree at a time. Walkers take directories from
 * a queue; a walker with more than one pending directory hands its shallowest one over
 * whenever another walker is idle (a shared counter, checked once per directory), so a single
 * deep subtree is still shared. Messages are per handed-over directory, never per file, so the
 * event loop stays free. The threads live as long as the pool (started on the first scan):
 * a thread costs tens of milliseconds to start, which would be paid on every scan otherwise.
 */
export class WalkerPool {
  private workers: Worker[] = [];
  private busy: Promise<unknown> = Promise.resolve();
  private current: { fail: (err: Error) => void } | undefined;
  private closed = false;

  constructor(readonly size = defaultWalkers()) {}

  /**
   * Scans one tree, or finishes one begun elsewhere (`seed`); scans are serialized (one tree
   * at a time per pool).
   */
  scan(req: ScanRequest, seed?: ScanSeed): Promise<ScanResult> {
    const run = this.busy.then(() => this.scanNow(req, seed));
    this.busy = run.catch(() => undefined);
    return run;
  }

  /** Stops the threads; a scan in progress rejects. The pool restarts on the next scan. */
  async close(final = true): Promise<void> {
    if (final) this.closed = true;
    const ws = this.workers;
    this.workers = [];
    this.current?.fail(new Error('directory scan cancelled'));
    await Promise.all(ws.map((w) => w.terminate()));
  }

  private scanNow(req: ScanRequest, seed?: ScanSeed): Promise<ScanResult> {
    if (this.closed) return Promise.reject(new Error('walker pool closed'));
    while (this.workers.length < this.size) {
      const w = spawnWalker();
      w.unref(); // an idle pool never keeps the process alive
      this.workers.push(w);
    }
    const pool = [...this.workers];
    const startedAt = seed?.startedAt ?? Date.now();
    const t0 = seed?.t0 ?? performance.now();
    const hungryBuf = new SharedArrayBuffer(4);
    const hungry = new Int32Array(hungryBuf);
    const queue: DirTask[] = seed ? [...seed.tasks] : [{ dir: req.root, ancestors: [], root: true }];
    const idle: Worker[] = [...pool];
    const parts: PartialCounts[] = [];
    let rootOk = true;
    let finishing = false;

    return new Promise<ScanResult>((resolve, reject) => {
      const cleanup = (): void => {
        for (const w of pool) {
          w.off('message', onMessage.get(w) as (m: FromWorker) => void);
          w.off('error', fail);
          w.off('exit', onExit);
        }
        this.current = undefined;
      };
      const fail = (err: Error): void => {
        cleanup();
        // A thread that died or was stopped mid-walk: start afresh next scan.
        void this.close(false);
        reject(err);
      };
      const onExit = (code: number): void => fail(new Error(`directory scan worker exited with code ${code}`));
      this.current = { fail };
      const dispatch = (): void => {
        while (queue.length > 0 && idle.length > 0) {
          (idle.pop() as Worker).postMessage({ type: 'task', task: queue.pop() as DirTask } satisfies ToWorker);
        }
        Atomics.store(hungry, 0, queue.length > 0 ? 0 : idle.length);
        if (queue.length === 0 && idle.length === pool.length && !finishing) {
          finishing = true;
          for (const w of pool) w.postMessage({ type: 'finish' } satisfies ToWorker);
        }
      };
      const onMessage = new Map<Worker, (m: FromWorker) => void>();
      for (const w of pool) {
        const handler = (msg: FromWorker): void => {
          if (msg.type === 'task') {
            queue.push(msg.task);
            dispatch();
          } else if (msg.type === 'idle') {
            if (msg.rootFailed) rootOk = false;
            idle.push(w);
            dispatch();
          } else {
            parts.push(msg.counts);
            if (parts.length === pool.length) {
              cleanup();
              resolve(mergeCounts(req, seed ? [seed.part, ...parts] : parts, startedAt, performance.now() - t0, rootOk));
            }
          }
        };
        onMessage.set(w, handler);
        w.on('message', handler);
        w.once('error', fail);
        w.once('exit', onExit);
        w.postMessage({ type: 'begin', cutoffs: req.modifiedSince, ...(req.within ? { within: req.within } : {}), hungry: hungryBuf } satisfies ToWorker);
      }
      dispatch();
    });
  }
}

/** A walk begun elsewhere (on the event loop) that the pool finishes: its pending directories and its counts. */
export interface ScanSeed {
  tasks: DirTask[];
  part: PartialCounts;
  startedAt: number;
  t0: number;
}

/** How long a walk on the event loop runs before it yields to pending I/O (scrapes), ms. */
const SLICE_MS = 4;
/** Past this many entries a walk on the event loop hands the rest to the walker threads. */
export const INLINE_MAX_ENTRIES = 50_000;

/**
 * Walks a tree on the calling thread in slices of about SLICE_MS, yielding to the event loop
 * between them, so a scrape waits at most one slice. A small tree (the audited host's 10,000
 * log files: about 80 ms of CPU) needs no thread at all: no thread to start (~34 ms of CPU)
 * and none holding ~12 MB while it walks. A tree that turns out larger than `maxEntries` is
 * finished by `pool`, from the directories still pending.
 */
export async function scanSliced(
  req: ScanRequest,
  pool: WalkerPool,
  signal?: AbortSignal,
  maxEntries = INLINE_MAX_ENTRIES,
  sliceMs = SLICE_MS,
): Promise<ScanResult> {
  const startedAt = Date.now();
  const t0 = performance.now();
  const w = new Walker(req.modifiedSince, req.within);
  const rootOk = w.begin({ dir: req.root, ancestors: [], root: true });
  for (;;) {
    const sliceEnd = performance.now() + sliceMs;
    // Between directories: time, or enough entries to hand the rest over; inside one (every
    // 256 entries): time only, since a half-listed directory cannot be handed over.
    const done = w.drain((inside) => performance.now() >= sliceEnd || (!inside && w.visited >= maxEntries));
    if (done) return mergeCounts(req, [w.finish()], startedAt, performance.now() - t0, rootOk);
    if (w.visited >= maxEntries && !w.midListing()) {
      const tasks = w.takePending();
      return pool.scan(req, { tasks, part: w.finish(), startedAt, t0 });
    }
    await new Promise<void>((r) => setImmediate(r));
    if (signal?.aborted) throw new Error('directory scan cancelled');
  }
}

/** One scan with a pool of its own (the benchmark and one-off scans). */
export async function scanTree(req: ScanRequest, walkers = defaultWalkers()): Promise<ScanResult> {
  const pool = new WalkerPool(walkers);
  try {
    return await pool.scan(req);
  } finally {
    await pool.close();
  }
}
