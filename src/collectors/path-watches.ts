// Which configured paths are kept current from filesystem events, and the trees that do it.
// Each path gets a WatchedTree after its first walk; every full_scan_interval a fresh tree is
// walked beside it and takes its place. When a tree loses events (a burst as large as the
// kernel's queue, a watcher error, its root replaced) a fresh one is walked at once; when it
// cannot watch at all (the watch limit, a tree too deep for inotify paths) the path is walked
// every scan_interval as before until the next full_scan_interval tries again. Each reason is
// logged once per path.
import type { PathConfig } from '../config.js';
import type { Logger } from '../log.js';
import { WatchBudget } from '../sources/watch/watch-budget.js';
import { WatchedTree, type TreeFigures } from '../sources/watch/watched-tree.js';

export interface PathWatchOptions {
  fullScanIntervalMs: number;
  /** Fewest ms between two fresh walks after lost events (scan_interval). */
  retryAfterMs: number;
  budget: WatchBudget;
  overflowAt: number;
  log: Logger;
}

interface Slot {
  p: PathConfig;
  tree: WatchedTree | undefined;
  /** A fresh tree being walked to replace `tree`. */
  next: WatchedTree | undefined;
  /** When the current tree's walk started and how long it took. */
  walkStartedAt: number;
  walkMs: number;
  /** The last time the tree had applied every event it was given. */
  currentAt: number;
  /** Not watchable until this time (ms since epoch): walked as before meanwhile. */
  blockedUntil: number;
  lastRebuild: number;
  /** The first walk has ended (watching or not). */
  firstDone: boolean;
  logged: Set<string>;
}

/** A loss after which a fresh walk would only lose again: wait for the next full scan. */
const LASTING = /watch limit|deeper than|cannot watch/;

export class PathWatches {
  private readonly slots = new Map<string, Slot>();
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    paths: readonly PathConfig[],
    private readonly opts: PathWatchOptions,
  ) {
    for (const p of paths) {
      if (p.watch === false) continue;
      this.slots.set(p.name, {
        p,
        tree: undefined,
        next: undefined,
        walkStartedAt: 0,
        walkMs: 0,
        currentAt: 0,
        blockedUntil: 0,
        lastRebuild: 0,
        firstDone: false,
        logged: new Set(),
      });
    }
  }

  /** Walks and watches every path in turn; resolves when each has a tree or has given up. */
  async start(): Promise<void> {
    for (const s of this.slots.values()) {
      if (this.stopped) return;
      await this.rebuild(s);
    }
    // Each tick: full scans due, trees to replace after a loss, the moment each was current.
    this.timer = setInterval(() => void this.tick(), 1000);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    for (const s of this.slots.values()) {
      s.tree?.stop();
      s.next?.stop();
    }
  }

  /** Whether the path's figures come from a tree kept current (and so need no walk). */
  active(name: string): boolean {
    return this.slots.get(name)?.tree?.state === 'watching';
  }

  /** Whether the path needs no walk from the scan loop: watched, or its first tree is being read. */
  covers(name: string): boolean {
    const s = this.slots.get(name);
    if (!s) return false;
    return s.tree?.state === 'watching' || !s.firstDone;
  }

  figures(name: string, cutoffs: readonly number[]): (TreeFigures & { currentAt: number; walkMs: number }) | undefined {
    const s = this.slots.get(name);
    if (!s?.tree || s.tree.state !== 'watching') return undefined;
    if (s.tree.idle) s.currentAt = Date.now();
    return { ...s.tree.figures(cutoffs), currentAt: s.currentAt, walkMs: s.walkMs };
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    for (const s of this.slots.values()) {
      if (this.stopped) return;
      if (s.tree?.idle && s.tree.state === 'watching') s.currentAt = now;
      if (s.next) continue; // a walk is on its way
      const lost = !s.tree || s.tree.state === 'lost';
      const due = now - s.walkStartedAt >= this.opts.fullScanIntervalMs;
      if (lost && now < s.blockedUntil && !due) continue;
      if (lost && now - s.lastRebuild < this.opts.retryAfterMs && !due) continue;
      if (!lost && !due) continue;
      await this.rebuild(s);
    }
  }

  /** Walks a fresh tree; it replaces the current one once it is read (the old one serves meanwhile). */
  private async rebuild(s: Slot): Promise<void> {
    s.lastRebuild = Date.now();
    const started = Date.now();
    let reason: string | undefined;
    const tree = new WatchedTree(s.p.path, {
      maxWindowMs: Math.max(0, ...s.p.modifiedWithin.map((w) => w.ms)),
      budget: this.opts.budget,
      overflowAt: this.opts.overflowAt,
      onLost: (r) => {
        reason = r;
        this.onLost(s, tree, r);
      },
    });
    s.next = tree;
    try {
      await tree.start();
    } finally {
      s.next = undefined;
      s.firstDone = true;
    }
    if (this.stopped) {
      tree.stop();
      return;
    }
    if (tree.state !== 'watching') {
      // Could not watch: the path is walked as before (the old tree, if any, stays retired).
      if (reason !== undefined && LASTING.test(reason)) s.blockedUntil = started + this.opts.fullScanIntervalMs;
      s.tree?.stop();
      s.tree = undefined;
      s.walkStartedAt = started;
      return;
    }
    s.tree?.stop();
    s.tree = tree;
    s.walkStartedAt = started;
    s.walkMs = Date.now() - started;
    s.currentAt = Date.now();
    s.blockedUntil = 0;
    const once = 'watching';
    if (!s.logged.has(once)) {
      s.logged.add(once);
      this.opts.log.info('path kept current from filesystem events', { name: s.p.name, path: s.p.path, watches: tree.watches, entries: tree.entries });
    }
  }

  private onLost(s: Slot, tree: WatchedTree, reason: string): void {
    if (this.stopped) return;
    const kind = reason.replace(/\d+/g, 'N');
    if (!s.logged.has(kind)) {
      s.logged.add(kind);
      this.opts.log.warn('path no longer kept current from events: walked instead', { name: s.p.name, path: s.p.path, reason });
    }
    if (tree === s.tree && LASTING.test(reason)) s.blockedUntil = Date.now() + this.opts.fullScanIntervalMs;
  }
}
