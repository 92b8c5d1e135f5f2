// One walker of a du-like scan: a depth-first stack of directories, each read relative to an
// open descriptor of its parent (dir-relative.ts), names as bytes where they are not UTF-8.
// The walk on the event loop (dir-scan.ts) and the walker threads (walker-pool.ts) both drive it.
import { closeSync, lstatSync, type Stats } from 'node:fs';
import { displayName } from './byte-names.js';
import {
  closeQuietly,
  fdKey,
  Listing,
  lstatAt,
  openAt,
  openBelow,
  openDirectory,
  type EntryName,
} from './dir-relative.js';

/** Regular files with mtime >= each cutoff (ms since epoch) are counted, in this order. */
export interface WithinRequest {
  root: string;
  modifiedSince: readonly number[];
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

/**
 * A directory for a walker to read: the scan root (by path, lstat and counted first), or one
 * handed over by another walker, by path (checked to be the directory `key` names) or, when
 * its path is longer than the kernel takes, as a descriptor the receiver then owns.
 */
export interface DirTask {
  dir: string | Uint8Array;
  /** dev:ino keys of its ancestors, outermost first, then its own (cycle detection). */
  ancestors: string[];
  root?: boolean;
  fd?: number;
  /** The path as shown in logs (names that are not UTF-8 escaped). */
  display?: string;
  /** Indexes of ScanRequest.within that contain this directory. */
  within?: number[];
}

export const MAX_ERROR_SAMPLES = 5;
/** Descriptors a walker keeps open for directories whose subdirectories wait; deeper ones are reopened from the nearest kept one. */
const MAX_HELD = 64;
/** Paths longer than this are handed over as an open descriptor rather than by name. */
const MAX_TASK_PATH = 3072;
const NONE: readonly number[] = [];

/** A directory met in the walk. */
interface Node {
  name: EntryName;
  parent: Node | undefined;
  key: string;
  within: readonly number[];
  /** Open while it is listed, and after it while it anchors pending subdirectories; -1 otherwise. */
  fd: number;
  /** Pending directories that will be opened through this one's descriptor, plus one while listed. */
  refs: number;
  /** The open directory this one will be opened from (its parent, or a kept ancestor). */
  anchor: Node | undefined;
  /** Listed without keeping its descriptor: its subdirectories use its anchor. */
  transient: boolean;
  /** A task's first directory: its path, as given and as shown. */
  base?: { path: string | Buffer; display: string };
  listing?: Listing;
  /** Names read from its listing so far. */
  count: number;
}

/** One tree's counts inside a walk: the scan root's, or one of ScanRequest.within's. */
class Tally {
  readonly counts: PartialCounts;
  readonly linked = new Map<number, Map<number, number>>();
  reached = false;

  constructor(readonly cutoffs: readonly number[]) {
    this.counts = { bytes: 0, files: 0, filesModified: cutoffs.map(() => 0), errors: 0, errorSamples: [], linked: [] };
  }

  fail(path: () => string, err: unknown): void {
    const c = this.counts;
    c.errors++;
    if (c.errorSamples.length < MAX_ERROR_SAMPLES) {
      c.errorSamples.push(`${(err as NodeJS.ErrnoException | undefined)?.code ?? 'ENOENT'} ${path()}`);
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
 * Descriptors: a directory's stays open while subdirectories of it wait (in a chain 5000 deep,
 * two at a time); past MAX_HELD a directory is listed and closed, and its subdirectories are
 * opened from the nearest directory still open.
 */
export class Walker {
  private readonly root: Tally;
  private readonly within: Tally[];
  private readonly withinKeys = new Map<string, number>();
  private readonly stack: Node[] = [];
  private readonly open = new Set<number>();
  private held = 0;
  /** Entries counted so far (a walk on the event loop hands over to threads past a bound). */
  visited = 0;

  /**
   * `streamed`: list directories a few names at a time (the walk on the event loop, which
   * must be able to stop inside a huge one); threads list each in one call (less CPU).
   */
  constructor(cutoffs: readonly number[], within: readonly WithinRequest[] = [], private readonly streamed = false) {
    this.root = new Tally(cutoffs);
    this.within = within.map((w) => new Tally(w.modifiedSince));
    // A configured path inside the tree is recognized by its inode: only a real directory is
    // reached (a symlink or a missing one is scanned on its own, as before).
    within.forEach((w, i) => {
      let st: Stats | undefined;
      try {
        st = lstatSync(w.root, { throwIfNoEntry: false });
      } catch (err) {
        if (!(err as NodeJS.ErrnoException).code) throw err; // EACCES above it: not reached, scanned alone
      }
      if (st?.isDirectory()) this.withinKeys.set(`${st.dev}:${st.ino}`, i);
    });
  }

  /** The scan root's counts so far. */
  get counts(): PartialCounts {
    return this.root.counts;
  }

  private fail(path: () => string, err: unknown, within: readonly number[]): void {
    this.root.fail(path, err);
    for (const i of within) (this.within[i] as Tally).fail(path, err);
  }

  /** Counts one entry; a directory is queued for reading. Returns the directory's node. */
  private visit(name: EntryName, st: Stats, parent: Node | undefined, inherited: readonly number[]): Node | undefined {
    this.visited++;
    let within = inherited;
    const dir = st.isDirectory();
    const key = dir ? `${st.dev}:${st.ino}` : '';
    if (dir && this.withinKeys.size > 0) {
      const i = this.withinKeys.get(key);
      if (i !== undefined && !inherited.includes(i)) {
        within = [...inherited, i];
        (this.within[i] as Tally).reached = true;
      }
    }
    this.root.add(st);
    for (const i of within) (this.within[i] as Tally).add(st);
    if (!dir) return undefined;
    for (let a = parent; a; a = a.parent) if (a.key === key) return undefined; // a bind mount containing itself: du skips it
    const anchor = parent === undefined ? undefined : parent.transient ? parent.anchor : parent;
    const node: Node = { name, parent, key, within, fd: -1, refs: 0, anchor, transient: false, count: 0 };
    if (anchor) anchor.refs++;
    return node;
  }

  private openFd(path: string | Buffer | number): number {
    const fd = typeof path === 'number' ? path : openDirectory(path);
    this.open.add(fd);
    return fd;
  }

  private closeFd(fd: number): void {
    this.open.delete(fd);
    closeSync(fd);
  }

  /** Drops one reference to a directory's descriptor; closes it with the last. */
  private release(n: Node | undefined): void {
    if (!n || --n.refs > 0 || n.fd < 0) return;
    this.closeFd(n.fd);
    n.fd = -1;
    if (!n.transient) this.held--;
  }

  /** Opens a pending directory; false (an error counted) when it cannot be. */
  private openNode(n: Node): boolean {
    const anchor = n.anchor;
    try {
      if (!anchor) return true; // a base: opened by begin()
      const fd = anchor === n.parent ? openAt(anchor.fd, n.name) : openBelow(anchor.fd, this.namesFrom(anchor, n), n.key);
      this.open.add(fd);
      n.fd = fd;
    } catch (err) {
      this.fail(() => this.display(n), err, n.within);
      this.release(anchor);
      return false;
    }
    if (this.held < MAX_HELD) {
      this.held++;
      this.release(anchor);
    } else {
      n.transient = true; // keeps its reference on the anchor until listed
      n.anchor = anchor;
    }
    n.refs++;
    return true;
  }

  /** Names from below `anchor` down to `n`. */
  private namesFrom(anchor: Node, n: Node): EntryName[] {
    const names: EntryName[] = [];
    for (let a: Node | undefined = n; a && a !== anchor; a = a.parent) names.push(a.name);
    return names.reverse();
  }

  /** A directory's path for a log line, names that are not UTF-8 escaped. */
  private display(n: Node, child?: EntryName): string {
    const parts: string[] = [];
    if (child !== undefined) parts.push(show(child));
    let a: Node | undefined = n;
    for (; a && !a.base; a = a.parent) parts.push(show(a.name));
    const base = a?.base?.display ?? '';
    parts.push(base === '/' ? '' : base);
    return parts.reverse().join('/');
  }

  /**
   * Walks one task to the end, handing directories to `donate` while `wantsWork` says another
   * walker is idle. Returns false when the task is the root and the root cannot be read.
   */
  run(task: DirTask, wantsWork: () => boolean = () => false, donate: (t: DirTask) => void = () => undefined, cancelled: () => boolean = () => false): boolean {
    if (!this.begin(task)) return false;
    if (!this.drain(cancelled, wantsWork, donate)) this.abort();
    return true;
  }

  /** Takes a task; false when it is the root and the root cannot be read. */
  begin(task: DirTask): boolean {
    let parent: Node | undefined;
    for (const key of task.ancestors.slice(0, task.root ? undefined : -1)) {
      parent = { name: '', parent, key, within: NONE, fd: -1, refs: 0, anchor: undefined, transient: true, count: 0 };
    }
    const path = typeof task.dir === 'string' ? task.dir : Buffer.from(task.dir.buffer, task.dir.byteOffset, task.dir.byteLength);
    const display = task.display ?? (typeof path === 'string' ? path : displayName(path));
    const shown = (): string => display;
    let node: Node | undefined;
    if (task.root) {
      let st: Stats | undefined;
      try {
        st = lstatSync(path, { throwIfNoEntry: false });
      } catch (err) {
        this.fail(shown, err, NONE);
        return false;
      }
      if (!st) {
        this.fail(shown, undefined, NONE);
        return false;
      }
      node = this.visit(path, st, parent, NONE);
      if (!node) return true; // a file, a symlink: counted, nothing to read
    } else {
      const key = task.ancestors[task.ancestors.length - 1] ?? '';
      node = { name: '', parent, key, within: task.within ?? NONE, fd: -1, refs: 0, anchor: undefined, transient: false, count: 0 };
    }
    node.base = { path, display };
    try {
      node.fd = this.openFd(task.fd ?? path);
      // Opened by its path: the directory listed must be the one lstat saw, not one a symlink
      // swapped in above it since.
      if (task.fd === undefined && fdKey(node.fd) !== node.key) {
        this.closeFd(node.fd);
        node.fd = -1;
        throw Object.assign(new Error('directory changed while walked'), { code: 'ESTALE' });
      }
    } catch (err) {
      // du counts an unreadable directory's own size (done in visit) and reports it; so do we.
      this.fail(shown, err, node.within);
      return true;
    }
    this.held++;
    node.refs = 1;
    this.stack.push(node);
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
      // The shallowest pending directory is the biggest piece of work to hand an idle walker.
      if (stack.length > 1 && !(stack[0] as Node).listing && wantsWork()) {
        const t = this.handOver(stack.shift() as Node);
        if (t) donate(t);
        continue;
      }
      const d = stack.pop() as Node;
      if (!d.listing) {
        if (d.fd < 0 && !this.openNode(d)) continue;
        try {
          d.listing = new Listing(d.fd, this.streamed);
        } catch (err) {
          this.fail(() => this.display(d), err, d.within); // EACCES: du counts it and the directory's own size
          this.doneListing(d);
          continue;
        }
      }
      const l = d.listing;
      const resumedAt = d.count;
      for (;;) {
        if (d.count !== resumedAt && (d.count & 255) === 0 && stop(true)) {
          stack.push(d);
          return false;
        }
        let name: EntryName | undefined | null;
        try {
          name = l.read();
        } catch (err) {
          this.fail(() => this.display(d), err, d.within); // EIO on a broken directory
          break;
        }
        if (name === null) break;
        d.count++;
        if (name === undefined) continue;
        const n = name;
        let st: Stats | undefined;
        try {
          st = lstatAt(d.fd, n);
        } catch (err) {
          this.fail(() => this.display(d, n), err, d.within); // EACCES in a directory without x, …
          continue;
        }
        // Gone between readdir and lstat: du says "cannot access" and counts an error too.
        if (!st) this.fail(() => this.display(d, n), undefined, d.within);
        else {
          const sub = this.visit(n, st, d, d.within);
          if (sub) stack.push(sub);
        }
      }
      first = false;
      this.doneListing(d);
    }
    return true;
  }

  private doneListing(d: Node): void {
    d.listing?.close();
    d.listing = undefined;
    if (d.transient) {
      if (d.fd >= 0) this.closeFd(d.fd);
      d.fd = -1;
      this.release(d.anchor);
    } else {
      this.release(d);
    }
  }

  /** A pending directory as a task for another walker; this walker lets go of it. */
  private handOver(d: Node): DirTask | undefined {
    const ancestors: string[] = [];
    for (let a: Node | undefined = d; a; a = a.parent) ancestors.push(a.key);
    ancestors.reverse();
    const display = this.display(d);
    const within = d.within.length > 0 ? { within: [...d.within] } : {};
    const path = this.absolute(d);
    if (path !== undefined && Buffer.byteLength(path) < MAX_TASK_PATH) {
      this.release(d.anchor);
      return { dir: path, ancestors, display, ...within };
    }
    // Too deep to name: opened here and handed over open.
    if (this.openNode(d)) {
      this.open.delete(d.fd);
      if (!d.transient) this.held--;
      else this.release(d.anchor);
      return { dir: '', ancestors, display, fd: d.fd, ...within };
    }
    return undefined; // the error is counted here
  }

  /** A directory's absolute path from its task's base path. */
  private absolute(n: Node): string | Buffer | undefined {
    const names: EntryName[] = [];
    let a: Node | undefined = n;
    for (; a && !a.base; a = a.parent) names.push(a.name);
    const base = a?.base?.path;
    if (base === undefined) return undefined;
    names.push(base);
    names.reverse();
    if (names.every((x) => typeof x === 'string')) return (names as string[]).join('/').replace(/^\/\//, '/');
    const bufs = names.map((x) => (typeof x === 'string' ? Buffer.from(x) : x));
    return Buffer.concat(bufs.flatMap((b, i) => (i === 0 ? [b] : [Buffer.from('/'), b])));
  }

  /** Whether a directory's listing was interrupted: its rest cannot be handed over as a task. */
  midListing(): boolean {
    return this.stack.some((d) => d.listing !== undefined);
  }

  /** The directories still to read, as tasks for other walkers; this walker keeps none. */
  takePending(): DirTask[] {
    const out = this.stack.map((d) => this.handOver(d)).filter((t): t is DirTask => t !== undefined);
    this.stack.length = 0;
    return out;
  }

  /** Stops mid-walk: every descriptor and listing this walker holds is closed. */
  abort(): void {
    for (const d of this.stack) d.listing?.close();
    this.stack.length = 0;
    for (const fd of this.open) closeQuietly(fd);
    this.open.clear();
  }

  /** The counts with the multiply-linked inodes listed for merging. */
  finish(): PartialCounts {
    const out = this.root.finish();
    if (this.within.length > 0) out.within = this.within.map((t) => ({ ...t.finish(), reached: t.reached }));
    return out;
  }
}

function show(name: EntryName): string {
  return typeof name === 'string' ? name : displayName(name);
}
