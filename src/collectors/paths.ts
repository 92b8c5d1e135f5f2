// The "paths" collector: size (as `du -sb`), regular files, recently modified files and scan
// errors of each configured directory. Trees are walked in the background, one path after the
// other every scan_interval; a scrape only reads the latest results, so it never waits for a
// walk. Until a path's first scan has finished, that path has no series at all (a 0 would be
// a lie an alert could fire on).
import { lstatSync } from 'node:fs';
import type { PathConfig } from '../config.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { INLINE_MAX_ENTRIES, scanSliced, WalkerPool, type ScanRequest, type ScanResult } from '../sources/dir-scan.js';
import { inotifySetting, WatchBudget } from '../sources/watch/watch-budget.js';
import type { CollectContext, Collector, CollectorDeps } from './collector.js';
import { FamilyBuilder, type MetricFamily } from './metric-family.js';
import { PathWatches } from './path-watches.js';

const LABELS = ['name', 'path'] as const;


/**
 * When the next round is at least this far off, the walker threads are stopped after a round
 * and started again for the next: ~34 ms of CPU per round (0.06 % of a core at the default
 * 60 s) buys back their 12 MB each for the rest of the interval.
 */
const STOP_WALKERS_FOR_MS = 10_000;

interface Latest {
  result: ScanResult;
  finishedAt: number;
}

export class PathsCollector implements Collector {
  readonly name = 'paths';
  private readonly latest = new Map<string, Latest>();
  private readonly warnedLink = new Set<string>();
  private readonly pool = new WalkerPool();
  private readonly plan: ScanGroup[];
  private loop: Promise<void> | undefined;
  /** The background loop runs (start()); a one-shot refresh() walks every path. */
  private background = false;
  private readonly stopping = new AbortController();
  /** Completed scan rounds (tests wait on it). */
  rounds = 0;
  /** Paths kept current from filesystem events; started with the background loop only (not for a one-shot audit). */
  readonly watches: PathWatches | undefined;

  constructor(
    private readonly paths: readonly PathConfig[],
    private readonly intervalMs: number,
    private readonly log: Logger,
    watch?: { fullScanIntervalMs: number; watchLimit: number },
  ) {
    this.plan = planScans(paths);
    if (watch && watch.watchLimit > 0 && paths.some((p) => p.watch !== false)) {
      this.watches = new PathWatches(paths, {
        fullScanIntervalMs: watch.fullScanIntervalMs,
        retryAfterMs: intervalMs,
        budget: new WatchBudget(watch.watchLimit),
        // Half the kernel's queue: libuv reads the whole queue at once, so a batch that large may have overflowed.
        overflowAt: Math.floor(inotifySetting('max_queued_events', 16_384) / 2),
        log,
      });
    }
  }

  start(): void {
    // Watched paths are walked by their trees; the loop walks the others (and any that cannot be watched).
    if (this.loop) return;
    this.background = true;
    void this.watches?.start();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.watches?.stop();
    this.stopping.abort();
    await this.pool.close();
    await this.loop;
  }

  /** One round now, outside the interval (the one-shot audit); resolves when collect() has it. */
  async refresh(signal: AbortSignal): Promise<void> {
    for (const g of this.plan) {
      if (signal.aborted) return;
      await this.scanGroup(g);
    }
    this.rounds++;
  }

  /** Scans every path in turn, then sleeps until the next round is due. */
  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      const roundStart = Date.now();
      for (const g of this.plan) {
        if (signal.aborted) return;
        await this.scanGroup(g);
      }
      this.rounds++;
      const wait = roundStart + this.intervalMs - Date.now();
      if (wait >= STOP_WALKERS_FOR_MS) await this.pool.close(false);
      if (wait <= 0) {
        // The walk takes longer than scan_interval: go on, but let the event loop breathe.
        this.log.debug('path scans take longer than scan_interval', { ms: Date.now() - roundStart });
      }
      await sleep(Math.max(wait, 10), signal);
    }
  }

  /** One walk for a path and every configured path inside it; any of those the walk did not reach, alone. */
  private async scanGroup(g: ScanGroup): Promise<void> {
    // Nothing to walk when every path of the group is watched (or its first tree is being read).
    if (this.background && this.watches && [g.outer, ...g.inner].every((p) => this.watches?.covers(p.name))) return;
    for (const p of [g.outer, ...g.inner]) this.warnIfSymlink(p);
    const now = Date.now();
    let result: ScanResult;
    try {
      result = await this.walk(
        {
          root: g.outer.path,
          modifiedSince: cutoffs(g.outer, now),
          ...(g.inner.length > 0 ? { within: g.inner.map((p) => ({ root: p.path, modifiedSince: cutoffs(p, now) })) } : {}),
        },
        g.outer,
      );
    } catch (err) {
      // A crashed or cancelled walk: the previous results stay (their timestamps show their age).
      if (!this.stopping.signal.aborted) this.log.warn('path scan failed', { name: g.outer.name, path: g.outer.path, err: describeError(err) });
      return;
    }
    this.keep(g.outer, result);
    for (const [i, p] of g.inner.entries()) {
      const r = result.within?.[i];
      if (r) this.keep(p, r);
      else if (!this.stopping.signal.aborted) await this.scanGroup({ outer: p, inner: [] });
    }
  }

  /** The walker threads for a tree last seen large; the event loop, in slices, for any other. */
  private walk(req: ScanRequest, p: PathConfig): Promise<ScanResult> {
    const last = this.latest.get(p.name)?.result;
    // Threads for a tree last seen large: two halve the wall time of a large walk (docs/performance.md,
    // "Directory scans"). Any other tree on the event loop in slices (scanSliced), which hands
    // the rest to the threads if it turns out large: a thread costs ~34 ms of CPU to start and
    // holds ~12 MB while it lives, more than a small tree's whole walk.
    if (last && last.files >= INLINE_MAX_ENTRIES) return this.pool.scan(req);
    return scanSliced(req, this.pool, this.stopping.signal);
  }

  private warnIfSymlink(p: PathConfig): void {
    if (!this.warnedLink.has(p.name) && isSymlink(p.path)) {
      // du -sb LINK measures the link, and so do we; almost certainly not what was meant.
      this.warnedLink.add(p.name);
      this.log.warn('path is a symlink: measured as the link itself, as du -sb does; configure the directory it points to', {
        name: p.name,
        path: p.path,
      });
    }
  }

  private keep(p: PathConfig, result: ScanResult): void {
    this.latest.set(p.name, { result, finishedAt: Date.now() });
    if (result.errors > 0) {
      this.log.debug('path scan had errors', { name: p.name, errors: result.errors, first: result.errorSamples.join('; ') });
    }
  }

  async collect(_ctx: CollectContext): Promise<MetricFamily[]> {
    const b = new FamilyBuilder();
    const bytes = b.gauge(
      'hostaudit_path_bytes',
      'Apparent size of the tree as `du -sb` gives it: each inode once, symlinks not followed, directories included.',
      LABELS,
    );
    const files = b.gauge('hostaudit_path_files', 'Regular files in the tree.', LABELS);
    const modified = b.gauge(
      'hostaudit_path_files_modified',
      'Regular files modified within each configured window before the scan started.',
      [...LABELS, 'within'],
    );
    const errors = b.gauge('hostaudit_path_scan_errors', 'Entries that could not be read in the last scan.', LABELS);
    const last = b.gauge(
      'hostaudit_path_last_scan_timestamp_seconds',
      'Unix time the last scan finished; for a path kept current from events, the last time every event had been applied.',
      LABELS,
    );
    const duration = b.gauge('hostaudit_path_scan_duration_seconds', 'How long the last scan (for a watched path, its last full walk) took.', LABELS);
    const watchActive = b.gauge(
      'hostaudit_path_watch_active',
      'Whether the path is kept current from filesystem events (1) or walked every scan_interval (0).',
      LABELS,
    );
    const now = Date.now();
    for (const p of this.paths) {
      const labels = { name: p.name, path: p.path };
      const w = this.watches?.figures(p.name, cutoffs(p, now));
      watchActive(labels, w ? 1 : 0);
      const l = w ? undefined : this.latest.get(p.name);
      // A watched path's figures are current now; a walked one's are its last finished walk's.
      const f = w
        ? { ...w, finishedAt: w.currentAt, durationMs: w.walkMs }
        : l && { ...l.result, finishedAt: l.finishedAt };
      if (!f) continue; // not scanned yet
      errors(labels, f.errors);
      last(labels, f.finishedAt / 1000);
      duration(labels, f.durationMs / 1000);
      if (!f.ok) continue; // the root itself is missing or unreadable: no size to report
      bytes(labels, f.bytes);
      files(labels, f.files);
      p.modifiedWithin.forEach((win, i) => modified({ ...labels, within: win.label }, f.filesModified[i] ?? 0));
    }
    return b.build();
  }
}

/** Files modified at or after these times (ms) count in each of the path's windows. */
function cutoffs(p: PathConfig, now: number): number[] {
  return p.modifiedWithin.map((w) => now - w.ms);
}

export interface ScanGroup {
  outer: PathConfig;
  /** Configured paths inside `outer` (or equal to it), measured in the same walk. */
  inner: PathConfig[];
}

/**
 * Groups configured paths by the outermost configured path containing each, so a tree is
 * walked once however many configured paths it holds (the audit's `system` holds `logs` and
 * `data`: without this the log tree was walked twice every scan_interval). Pure.
 */
export function planScans(paths: readonly PathConfig[]): ScanGroup[] {
  const covers = (q: PathConfig, qi: number, p: PathConfig, pi: number): boolean =>
    q.path === p.path ? qi < pi : p.path.startsWith(q.path === '/' ? '/' : `${q.path}/`);
  const groups = new Map<PathConfig, ScanGroup>();
  const outerOf = paths.map((p, pi) => {
    let best = p;
    let bestIndex = pi;
    paths.forEach((q, qi) => {
      if (covers(q, qi, p, pi) && (q.path.length < best.path.length || (q.path.length === best.path.length && qi < bestIndex))) {
        best = q;
        bestIndex = qi;
      }
    });
    return best;
  });
  paths.forEach((p, i) => {
    if (outerOf[i] === p) groups.set(p, { outer: p, inner: [] });
  });
  paths.forEach((p, i) => {
    const o = outerOf[i] as PathConfig;
    if (o !== p) groups.get(o)?.inner.push(p);
  });
  return [...groups.values()];
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
  } catch {
    return false; // unreadable: the walk reports it as a scan error
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(); // an abort listener added now would never fire
    const t = setTimeout(done, ms);
    t.unref();
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export function createPathsCollector(deps: CollectorDeps): Collector | undefined {
  if (deps.config.paths.length === 0) return undefined;
  return new PathsCollector(deps.config.paths, deps.config.scanIntervalMs, deps.log, {
    fullScanIntervalMs: deps.config.fullScanIntervalMs,
    watchLimit: deps.config.watchLimit,
  });
}
