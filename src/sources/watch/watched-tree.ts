// One directory tree kept current from inotify (Node's fs.watch, one watch per directory): a
// walk reads it once into a TreeModel, then each event re-reads only the entry it names (and
// its directory's own size), so the cost follows the rate of change, not the size of the tree.
// A directory that appears is walked (it may have been created with content before its watch
// existed); one that goes takes its subtree and its watches with it. When events may have been
// lost (a burst as large as the kernel's queue, a watcher error, the root replaced) the tree
// says so through `lost` and its owner walks it again; past the watch budget it stops watching.
import { lstatSync, opendirSync, watch, type Dir, type FSWatcher, type Stats } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Kind, TreeModel, type EntryStat } from './tree-model.js';
import type { WatchBudget } from './watch-budget.js';

/** How long one slice of synchronous work may hold the event loop. */
const SLICE_MS = 8;
/** Longest path the kernel takes (PATH_MAX less the terminator). */
const PATH_MAX = 4095;
const SLASH = Buffer.from('/');
/** Names queued for one directory before it is listed whole instead. */
const MAX_PENDING_NAMES = 4096;

export interface TreeFigures {
  ok: boolean;
  bytes: number;
  files: number;
  filesModified: number[];
  errors: number;
  errorSamples: string[];
}

export type WatchState = 'walking' | 'watching' | 'lost' | 'stopped';

export interface WatchedTreeOptions {
  /** The longest modified_within window (ms): files older than it are not tracked by mtime. */
  maxWindowMs: number;
  budget: WatchBudget;
  /**
   * Events queued at once (one read of the inotify queue) from which some may have been
   * dropped: the kernel keeps max_queued_events and drops the rest with an overflow event that
   * Node does not pass on, so a batch near that size is taken as a loss.
   */
  overflowAt: number;
  /** Told once when the tree can no longer be trusted (events lost, budget reached, root gone). */
  onLost(reason: string): void;
}

export class WatchedTree {
  state: WatchState = 'walking';
  private model: TreeModel;
  private rootOk = false;
  private rootIno = -1;
  private rootIndex = -1;
  private readonly watchers = new Map<number, FSWatcher>();
  private readonly unreadable = new Set<number>();
  private errorsOther = 0;
  private readonly errorSamples: string[] = [];
  /** Events not yet applied: directory → names (latin1), or null for "re-list it". */
  private pending = new Map<number, Set<string> | null>();
  /** Directories with a name added, removed or moved among their pending events: their own size may have changed. */
  private readonly renamed = new Set<number>();
  private readonly toWalk: number[] = [];
  private burst = 0;
  /** A batch's turn is queued: every event of one read of the inotify queue arrives before it runs. */
  private batchQueued = false;
  private draining = false;
  private lostReason: string | undefined;
  /** Events applied so far (tests and the debug log). */
  eventsApplied = 0;

  constructor(
    readonly root: string,
    private readonly opts: WatchedTreeOptions,
  ) {
    this.model = new TreeModel(opts.maxWindowMs);
  }

  /** The first walk, in slices; resolves when the tree is read and watched (or could not be). */
  async start(): Promise<void> {
    const rootBuf = Buffer.from(this.root);
    const st = this.lstat(rootBuf);
    if (!st || st.kind !== Kind.Dir) {
      // A missing root, or one that is not a directory: as a walk reports it (ok 0 or one entry).
      this.rootOk = st !== undefined;
      if (st) this.model.addRoot(rootBuf, st);
      this.lose(st ? 'the root is not a directory' : 'the root cannot be read');
      return;
    }
    this.rootOk = true;
    this.rootIno = st.ino;
    this.rootKey = rootBuf.subarray(rootBuf.lastIndexOf(SLASH) + 1).toString('latin1');
    const root = this.model.addRoot(rootBuf, st);
    this.rootIndex = root;
    this.toWalk.push(root);
    await this.work();
    if (this.state === 'walking') this.state = 'watching';
  }

  figures(cutoffs: readonly number[]): TreeFigures {
    return {
      ok: this.rootOk,
      bytes: this.model.bytes,
      files: this.model.files,
      filesModified: this.model.modifiedSince(cutoffs),
      errors: this.unreadable.size + this.errorsOther,
      errorSamples: [...this.errorSamples],
    };
  }

  get watches(): number {
    return this.watchers.size;
  }

  get entries(): number {
    return this.model.entries;
  }

  /** Nothing queued and nothing being applied: the figures are as current as the events. */
  get idle(): boolean {
    return this.pending.size === 0 && this.toWalk.length === 0 && !this.draining;
  }

  stop(): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.closeAll();
    this.pending.clear();
    this.renamed.clear();
    this.toWalk.length = 0;
  }

  private lose(reason: string): void {
    if (this.lostReason !== undefined || this.state === 'stopped') return;
    this.lostReason = reason;
    this.state = 'lost';
    this.closeAll();
    this.pending.clear();
    this.renamed.clear();
    this.toWalk.length = 0;
    this.opts.onLost(reason);
  }

  private closeAll(): void {
    for (const w of this.watchers.values()) w.close();
    this.opts.budget.release(this.watchers.size);
    this.watchers.clear();
  }

  /**
   * The directories events were applied in lately, each with its path and a slash after it,
   * its path and the name its own events come under: a busy directory's are built once.
   */
  private readonly dirInfo = new Map<number, { base: Buffer; path: Buffer; key: string }>();
  /** One buffer for every entry path: a path is built into it, not allocated per entry. */
  private scratch = Buffer.allocUnsafe(PATH_MAX + 1);
  /** The root's last path component as a latin1 key: the name its own events come under. */
  private rootKey = '';

  /** `base` (a directory's path and a slash) followed by `name`, as a view of the scratch buffer. */
  private entryPath(base: Buffer, name: Buffer): Buffer {
    const n = base.length + name.length;
    if (n > this.scratch.length) return Buffer.concat([base, name]);
    base.copy(this.scratch, 0);
    name.copy(this.scratch, base.length);
    return this.scratch.subarray(0, n);
  }

  /** As entryPath, for a name held as its latin1 key (one char per byte). */
  private entryPathOfKey(base: Buffer, key: string): Buffer {
    const n = base.length + key.length;
    if (n > this.scratch.length) return Buffer.concat([base, Buffer.from(key, 'latin1')]);
    const b = this.scratch;
    base.copy(b, 0);
    // A name is short: a loop is cheaper than Buffer#write's encoding dispatch.
    for (let k = 0, o = base.length; k < key.length; k++) b[o + k] = key.charCodeAt(k);
    return b.subarray(0, n);
  }

  private infoOf(dir: number): { base: Buffer; path: Buffer; key: string } {
    const hit = this.dirInfo.get(dir);
    if (hit) return hit;
    const base = this.buildPath(dir);
    const built = { base, path: base.subarray(0, base.length - 1), key: dir === this.rootIndex ? this.rootKey : this.model.keyOf(dir) };
    if (this.dirInfo.size >= 1024) this.dirInfo.clear();
    this.dirInfo.set(dir, built);
    return built;
  }

  /** The directory's path and a slash, as bytes, from the root down. */
  private baseOf(dir: number): Buffer {
    return this.infoOf(dir).base;
  }

  /** The directory's path, as bytes. */
  private pathOf(dir: number): Buffer {
    return this.infoOf(dir).path;
  }

  private buildPath(dir: number): Buffer {
    const parts: Buffer[] = [SLASH];
    for (let d = dir; d >= 0; d = this.model.parentOf(d)) {
      const name = this.model.dirName(d);
      if (!name) throw new Error(`directory ${d} has no name`);
      parts.push(name);
      if (this.model.parentOf(d) >= 0) parts.push(SLASH);
    }
    return Buffer.concat(parts.reverse());
  }

  private lstat(p: Buffer): EntryStat | undefined {
    let s: Stats | undefined;
    try {
      s = lstatSync(p, { throwIfNoEntry: false });
    } catch (err) {
      this.noteError(p, err);
      return undefined;
    }
    if (!s) return undefined;
    if (!(s.size >= 0 && s.ino >= 0)) {
      // A filesystem (FUSE) can report what no file has: unread, counted, not a made-up figure.
      this.noteError(p, new RangeError(`size ${s.size} or inode ${s.ino} out of range`));
      return undefined;
    }
    return {
      kind: s.isFile() ? Kind.File : s.isDirectory() ? Kind.Dir : Kind.Other,
      size: s.size,
      mtimeMs: s.mtimeMs,
      dev: s.dev,
      ino: s.ino,
      nlink: s.nlink,
    };
  }

  private noteError(p: Buffer, err: unknown): void {
    this.errorsOther++;
    if (this.errorSamples.length < 5) this.errorSamples.push(`${p.toString('utf8')}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }

  /** Watches a directory before it is listed, so nothing created meanwhile is missed. */
  private watchDir(dir: number, p: Buffer): boolean {
    if (this.watchers.has(dir)) return true;
    if (!this.opts.budget.take()) {
      this.lose(`the watch limit (${this.opts.budget.limit}) is reached`);
      return false;
    }
    let w: FSWatcher;
    try {
      // latin1: each name as a string of its bytes, the key the model and the queue use, with
      // no Buffer made per event.
      w = watch(p, { encoding: 'latin1', persistent: false }, (event, name) => this.onEvent(dir, name, event === 'rename'));
    } catch (err) {
      this.opts.budget.release(1);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return true; // gone already: its parent's event says so
      if (code === 'EACCES') {
        // Unreadable: listing it fails and counts the error, and its parent's watch tells when
        // its permissions change. The root has no parent watched: unwatched, it would never be
        // read again, so the path is walked until a fresh tree can watch it.
        if (dir !== this.rootIndex) return true;
        this.lose('the root cannot be read, so its changes cannot be followed');
        return false;
      }
      this.lose(code === 'ENOSPC' ? "the host's inotify watch limit (fs.inotify.max_user_watches) is reached" : `cannot watch: ${code ?? String(err)}`);
      return false;
    }
    w.on('error', (err) => {
      // A watched directory that vanished reports here on some kernels; its parent's event
      // removes it. Anything else means events may be missing.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      this.lose(`watcher error: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
    });
    this.watchers.set(dir, w);
    return true;
  }

  private unwatch(dirs: readonly number[]): void {
    let n = 0;
    for (const d of dirs) {
      const w = this.watchers.get(d);
      if (w) {
        w.close();
        this.watchers.delete(d);
        n++;
      }
      this.unreadable.delete(d);
      this.pending.delete(d);
      this.dirInfo.delete(d);
      this.renamed.delete(d);
    }
    this.opts.budget.release(n);
  }

  private onEvent(dir: number, name: string | null, rename: boolean): void {
    if (this.state === 'stopped' || this.state === 'lost') return;
    this.burst++;
    if (!this.batchQueued) {
      this.batchQueued = true;
      setImmediate(this.onBatch);
    }
    if (!this.model.isDir(dir)) return; // removed since
    if (rename) this.renamed.add(dir);
    const names = this.pending.get(dir);
    if (name === null || name.length === 0) this.pending.set(dir, null);
    else if (names !== null) {
      // Past a few thousand names one listing of the directory is cheaper, and bounded.
      if (names && names.size >= MAX_PENDING_NAMES) this.pending.set(dir, null);
      else if (names) names.add(name);
      else this.pending.set(dir, new Set([name]));
    }
  }

  /** After one read of the inotify queue: a loss if it was as large as the kernel's queue, else its events applied. */
  private readonly onBatch = (): void => {
    this.batchQueued = false;
    const n = this.burst;
    this.burst = 0;
    if (this.state === 'stopped' || this.state === 'lost') return;
    if (n >= this.opts.overflowAt) {
      this.lose(`${n} events at once: some may have been dropped`);
      return;
    }
    if (!this.draining) void this.work();
  };

  /** Applies queued events and walks queued directories, yielding between slices. */
  private async work(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      let sliceStart = performance.now();
      const yieldIfDue = async (): Promise<void> => {
        if (performance.now() - sliceStart < SLICE_MS) return;
        await new Promise<void>((r) => setImmediate(r));
        sliceStart = performance.now();
      };
      while ((this.toWalk.length > 0 || this.pending.size > 0) && this.state !== 'stopped' && this.state !== 'lost') {
        const dir = this.toWalk.pop();
        if (dir !== undefined) {
          await this.readDir(dir, yieldIfDue);
          continue;
        }
        const [d, names] = this.pending.entries().next().value as [number, Set<string> | null];
        this.pending.delete(d);
        const renamed = this.renamed.delete(d);
        if (names !== null && names.size < 256) {
          // The usual batch, a few names: applied without a turn of the event loop or a promise.
          if (this.applySelf(d, names, renamed)) for (const key of names) this.applyName(d, this.baseOf(d), key);
        } else await this.apply(d, names, renamed, yieldIfDue);
        if (performance.now() - sliceStart >= SLICE_MS) await yieldIfDue();
      }
    } finally {
      this.draining = false;
    }
  }

  /** Lists one directory into the model (watching it first) and queues its subdirectories. */
  private async readDir(dir: number, yieldIfDue: () => Promise<void>): Promise<void> {
    if (!this.model.isDir(dir)) return;
    const p = this.pathOf(dir);
    if (p.length > PATH_MAX - 256) {
      this.lose('a directory is nested deeper than inotify can be given a path for');
      return;
    }
    if (!this.watchDir(dir, p)) return;
    // Listed a few hundred entries at a time, never whole: a directory of a million entries
    // must not hold the event loop for its listing.
    let d: Dir;
    try {
      // Node's types allow only string encodings here; 'buffer' gives each name as its bytes.
      d = opendirSync(p, { encoding: 'buffer' as BufferEncoding, bufferSize: 256 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return; // its parent's event removes it
      // du counts an unreadable directory once and still adds its own size.
      this.unreadable.add(dir);
      if (this.errorSamples.length < 5) this.errorSamples.push(`${p.toString('utf8')}: ${code ?? String(err)}`);
      return;
    }
    this.unreadable.delete(dir);
    const seenBefore = this.state !== 'walking';
    const base = this.baseOf(dir);
    let n = 0;
    try {
      for (;;) {
        let e;
        try {
          e = d.readSync();
        } catch {
          this.unreadable.add(dir);
          return;
        }
        if (e === null) return;
        const name = e.name as unknown as Buffer;
        const st = this.lstat(this.entryPath(base, name));
        // A directory read again (it was unreadable, or queued twice): what it held is replaced,
        // and the watches below an entry that is replaced go with it.
        if (seenBefore && this.model.lookup(dir, name) !== undefined) this.unwatch(this.model.remove(dir, name));
        if (st) {
          const i = this.model.add(dir, name, st, seenBefore);
          if (st.kind === Kind.Dir) this.toWalk.push(i);
        }
        if ((++n & 255) === 0) {
          await yieldIfDue();
          if (!this.model.isDir(dir) || this.state === 'lost' || this.state === 'stopped') return;
        }
      }
    } finally {
      d.closeSync();
    }
  }

  /** Whether the directory can be listed now (EACCES: unreadable, as du says "cannot read directory"). */
  private listable(p: Buffer): boolean {
    try {
      opendirSync(p).closeSync();
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return !(code === 'EACCES' || code === 'EPERM');
    }
  }

  /**
   * The directory itself, before the names an event gave in it: its own size when a name came
   * or went (or it was named itself, or is re-listed whole), whether it is still the root,
   * whether it can still be listed. Returns whether its names are to be applied.
   */
  private applySelf(dir: number, names: Set<string> | null, renamed: boolean): boolean {
    const info = this.infoOf(dir);
    const named = names === null || names.has(info.key);
    let self: EntryStat | undefined;
    if (renamed || named || this.unreadable.has(dir)) {
      self = this.lstat(info.path);
      if (dir === this.rootIndex) {
        if (!self || self.kind !== Kind.Dir || self.ino !== this.rootIno) {
          this.lose('the root was removed or replaced');
          return false;
        }
      }
      if (self && self.kind === Kind.Dir) this.model.update(dir, self);
    }
    // A directory's own events (its permissions changed) come named after the directory itself:
    // whether it can still be listed is checked when it may have changed (such a name, a
    // directory re-listed whole, unreadable before, or no longer lstat-able), not on every event
    // in it, which would open and close it for each batch of changes.
    const selfMayHaveChanged = named || this.unreadable.has(dir) || ((renamed || named) && !self);
    if (selfMayHaveChanged && !this.listable(info.path)) {
      if (!this.unreadable.has(dir)) {
        // As du: the directory's own size counts, what is inside it cannot be read.
        for (const key of [...this.model.childNames(dir)]) this.unwatch(this.model.remove(dir, key));
        this.unreadable.add(dir);
      }
      return false;
    }
    if (this.unreadable.has(dir)) {
      this.toWalk.push(dir);
      return false;
    }
    return true;
  }

  /** Re-reads the entries an event named in `dir` (all of them for null) and the directory itself. */
  private async apply(dir: number, names: Set<string> | null, renamed: boolean, yieldIfDue: () => Promise<void>): Promise<void> {
    if (!this.applySelf(dir, names, renamed)) return;
    const p = this.pathOf(dir);
    let list: Iterable<string>;
    if (names === null) {
      // Which names changed is unknown: every name listed now and every name the model has.
      const all = new Set(this.model.childNames(dir));
      let d: Dir | undefined;
      try {
        d = opendirSync(p, { encoding: 'buffer' as BufferEncoding, bufferSize: 256 });
        for (let e = d.readSync(), n = 1; e !== null; e = d.readSync(), n++) {
          all.add((e.name as unknown as Buffer).toString('latin1'));
          if ((n & 255) === 0) await yieldIfDue();
        }
      } catch {
        // gone or unreadable meanwhile: the names the model has are checked one by one
      } finally {
        d?.closeSync();
      }
      list = all;
    } else list = names;
    let n = 0;
    for (const key of list) {
      if ((++n & 255) === 0) {
        // Thousands of names: the event loop gets its turn, and a directory removed meanwhile ends this.
        await yieldIfDue();
        if (!this.model.isDir(dir) || this.state === 'lost' || this.state === 'stopped') return;
      }
      this.applyName(dir, this.baseOf(dir), key);
    }
  }

  /** Brings one entry of `dir` to what lstat says of it now (gone, changed, or new). */
  private applyName(dir: number, base: Buffer, key: string): void {
    this.eventsApplied++;
    const st = this.lstat(this.entryPathOfKey(base, key));
    const i = this.model.lookup(dir, key);
    if (!st) {
      if (i !== undefined) this.unwatch(this.model.remove(dir, key));
      return;
    }
    if (i !== undefined && this.model.update(i, st)) {
      // A directory whose permissions changed may be readable now.
      if (st.kind === Kind.Dir && this.unreadable.has(i)) this.toWalk.push(i);
      return;
    }
    if (i !== undefined) this.unwatch(this.model.remove(dir, key));
    const j = this.model.add(dir, Buffer.from(key, 'latin1'), st, true);
    if (st.kind === Kind.Dir) this.toWalk.push(j);
  }
}
