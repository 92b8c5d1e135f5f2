// Measures a directory tree the way `du -sb` does: apparent sizes (lstat st_size), every
// entry counted (the root and every directory included), symlinks never followed and counted
// by their own size, each inode counted once (keyed by device and inode), errors counted as du
// counts them. Entries are read relative to their directory (dir-relative.ts), so depth has no
// PATH_MAX limit and a name that is not UTF-8 is walked like any other. I/O only.
//
// This file is the event-loop strategy: a small tree is walked on the calling thread in
// slices; a large one is handed to the walker threads (walker-pool.ts). docs/design.md
// "Directory walk" and docs/performance.md "Directory scans" have the figures.
import { Walker } from './dir-walker.js';
import { mergeCounts, type ScanRequest, type ScanResult } from './scan-merge.js';
import { WalkerPool, defaultWalkers } from './walker-pool.js';

export { Walker, type DirTask, type PartialCounts } from './dir-walker.js';
export { mergeCounts, type ScanRequest, type ScanResult } from './scan-merge.js';
export { WalkerPool, WALKER_NICE, defaultWalkers, type FromWorker, type ToWorker, type ScanSeed } from './walker-pool.js';

/** The whole walk on the calling thread (unit tests, and small trees). */
export function walkSync(req: ScanRequest): ScanResult {
  const startedAt = Date.now();
  const t0 = performance.now();
  const w = new Walker(req.modifiedSince, req.within);
  const rootOk = w.run({ dir: req.root, ancestors: [], root: true });
  const part = w.finish();
  return mergeCounts(req, [part], startedAt, performance.now() - t0, rootOk);
}

/** How long a walk on the event loop runs before it yields to pending I/O (scrapes), ms. */
const SLICE_MS = 4;
/** Past this many entries a walk on the event loop hands the rest to the walker threads. */
export const INLINE_MAX_ENTRIES = 50_000;

/**
 * Walks a tree on the calling thread in slices of about SLICE_MS, yielding to the event loop
 * between them, so a scrape waits at most one slice; a directory is listed a few entries at a
 * time, so one of a million names is sliced too. A small tree (the audited host's 10,000 log
 * files: about 80 ms of CPU) needs no thread at all: no thread to start (~34 ms of CPU) and
 * none holding ~12 MB while it walks. A tree that turns out larger than `maxEntries` is
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
  const w = new Walker(req.modifiedSince, req.within, true);
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
    if (signal?.aborted) {
      w.abort();
      throw new Error('directory scan cancelled');
    }
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
