// The thread strategy of a scan: a small pool of walker threads (dir-scan-worker.ts) sharing
// one tree. Walkers take directories from a queue; a walker with more than one pending
// directory hands its shallowest one over whenever another walker is idle (a shared counter,
// checked once per directory), so a single deep subtree is still shared. Messages are per
// handed-over directory, never per file, so the event loop stays free. The threads live as
// long as the pool (started on the first scan): a thread costs tens of milliseconds to start.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { closeQuietly } from './dir-relative.js';
import type { DirTask, PartialCounts, WithinRequest } from './dir-walker.js';
import { mergeCounts, type ScanRequest, type ScanResult } from './scan-merge.js';

export type ToWorker =
  | { type: 'begin'; cutoffs: number[]; within?: WithinRequest[]; hungry: SharedArrayBuffer; cancel: SharedArrayBuffer }
  | { type: 'task'; task: DirTask }
  | { type: 'finish' };
export type FromWorker =
  | { type: 'task'; task: DirTask }
  | { type: 'idle'; rootFailed?: boolean }
  | { type: 'result'; counts: PartialCounts };

/** Niceness of walker threads (main thread unchanged): scrapes and the host's services come first. */
export const WALKER_NICE = 10;
/** How long a cancelled walk may take to close its descriptors before its threads are stopped anyway. */
const CANCEL_GRACE_MS = 5000;

/** Walkers per scan: two share the work well; more only contend for the same disk. */
export function defaultWalkers(): number {
  return Math.max(1, Math.min(2, availableParallelism()));
}

function spawnWalker(): Worker {
  const opts = {
    // Bounds a pathological tree (a directory of tens of millions of names) to a failed scan,
    // not an exporter out of memory; the small young generation keeps RSS flat.
    resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 256 },
    // Directories travel between walkers as open descriptors (past PATH_MAX): Node's tracking
    // would close one when the thread that opened it exits, after another took it over (and
    // by then the number may be someone else's). The walkers close their own (close()).
    trackUnmanagedFds: false,
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

/** A walk begun elsewhere (on the event loop) that the pool finishes: its pending directories and its counts. */
export interface ScanSeed {
  tasks: DirTask[];
  part: PartialCounts;
  startedAt: number;
  t0: number;
}

/** A scan in progress, as close() needs it: how to stop it and when its walkers have let go. */
interface Current {
  fail: (err: Error) => void;
  cancel: Int32Array;
  /** Resolves when every walker has answered every task it was sent (its descriptors closed). */
  settled: () => Promise<void>;
}

export class WalkerPool {
  private workers: Worker[] = [];
  private busy: Promise<unknown> = Promise.resolve();
  private current: Current | undefined;
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

  /**
   * Stops the threads; a scan in progress rejects. Its walkers are first told to stop and
   * close what they hold (a thread stopped mid-walk would leak its descriptors). The pool
   * restarts on the next scan.
   */
  async close(final = true): Promise<void> {
    if (final) this.closed = true;
    const ws = this.workers;
    this.workers = [];
    const cur = this.current;
    if (cur) {
      Atomics.store(cur.cancel, 0, 1);
      cur.fail(new Error('directory scan cancelled'));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([cur.settled(), new Promise<void>((r) => (timer = setTimeout(r, CANCEL_GRACE_MS)))]);
      clearTimeout(timer);
    }
    await Promise.all(ws.map((w) => w.terminate()));
  }

  private scanNow(req: ScanRequest, seed?: ScanSeed): Promise<ScanResult> {
    if (this.closed) {
      for (const t of seed?.tasks ?? []) if (t.fd !== undefined) closeQuietly(t.fd);
      return Promise.reject(new Error('walker pool closed'));
    }
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
    const cancelBuf = new SharedArrayBuffer(4);
    const cancel = new Int32Array(cancelBuf);
    const queue: DirTask[] = seed ? [...seed.tasks] : [{ dir: req.root, ancestors: [], root: true }];
    const idle: Worker[] = [...pool];
    const parts: PartialCounts[] = [];
    /** Tasks sent to each walker and not yet answered by an idle. */
    const outstanding = new Map<Worker, number>(pool.map((w) => [w, 0]));
    let wakeSettled: (() => void) | undefined;
    let rootOk = true;
    let finishing = false;
    let done = false;

    return new Promise<ScanResult>((resolve, reject) => {
      const isSettled = (): boolean => [...outstanding.values()].every((n) => n === 0);
      const cleanup = (): void => {
        done = true;
        // Directories handed over but never sent to a walker: their descriptors are ours.
        for (const t of queue) if (t.fd !== undefined) closeQuietly(t.fd);
        queue.length = 0;
        for (const w of pool) {
          w.off('error', fail);
          w.off('exit', onExit);
        }
        if (this.current === current) this.current = undefined;
      };
      const detach = (): void => {
        for (const w of pool) w.off('message', onMessage.get(w) as (m: FromWorker) => void);
      };
      const fail = (err: Error): void => {
        if (done) return;
        cleanup();
        reject(err);
        if (isSettled()) detach();
        // A thread that died or was stopped mid-walk: start afresh next scan.
        if (!Atomics.load(cancel, 0)) {
          Atomics.store(cancel, 0, 1);
          void this.close(false);
        }
      };
      const onExit = (code: number): void => fail(new Error(`directory scan worker exited with code ${code}`));
      const current: Current = {
        fail,
        cancel,
        settled: () =>
          isSettled()
            ? Promise.resolve()
            : new Promise<void>((r) => {
                wakeSettled = r;
              }),
      };
      this.current = current;
      const dispatch = (): void => {
        if (done) return;
        while (queue.length > 0 && idle.length > 0) {
          const w = idle.pop() as Worker;
          outstanding.set(w, (outstanding.get(w) ?? 0) + 1);
          w.postMessage({ type: 'task', task: queue.pop() as DirTask } satisfies ToWorker);
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
            if (done) {
              if (msg.task.fd !== undefined) closeQuietly(msg.task.fd);
              return;
            }
            queue.push(msg.task);
            dispatch();
          } else if (msg.type === 'idle') {
            outstanding.set(w, (outstanding.get(w) ?? 1) - 1);
            if (done) {
              if (isSettled()) {
                detach();
                wakeSettled?.();
              }
              return;
            }
            if (msg.rootFailed) rootOk = false;
            idle.push(w);
            dispatch();
          } else if (!done) {
            parts.push(msg.counts);
            if (parts.length === pool.length) {
              cleanup();
              detach();
              resolve(mergeCounts(req, seed ? [seed.part, ...parts] : parts, startedAt, performance.now() - t0, rootOk));
            }
          }
        };
        onMessage.set(w, handler);
        w.on('message', handler);
        w.once('error', fail);
        w.once('exit', onExit);
        w.postMessage({ type: 'begin', cutoffs: req.modifiedSince, ...(req.within ? { within: req.within } : {}), hungry: hungryBuf, cancel: cancelBuf } satisfies ToWorker);
      }
      dispatch();
    });
  }
}
