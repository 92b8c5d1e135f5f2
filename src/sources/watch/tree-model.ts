// The state of one watched tree, kept so that a filesystem event changes the figures by what
// changed, not by a new walk: every entry (name, kind, size, mtime, inode) and the totals
// `du -sb` and `find -type f` would give. Pure: no I/O; the watcher (watched-tree.ts) feeds it
// what lstat said. Entries live in typed arrays (struct of arrays) indexed by a number, names
// only as the keys of their directory's map, so a large tree costs a few dozen bytes an entry.

export const enum Kind {
  Free = 0,
  File = 1,
  Dir = 2,
  Other = 3,
}

/** What lstat said of one entry; the model keeps only this. */
export interface EntryStat {
  kind: Kind.File | Kind.Dir | Kind.Other;
  size: number;
  mtimeMs: number;
  dev: number;
  ino: number;
  nlink: number;
}

const INITIAL = 1024;

export class TreeModel {
  private kind = new Uint8Array(INITIAL);
  private parent = new Int32Array(INITIAL);
  private size = new Float64Array(INITIAL);
  private mtime = new Float64Array(INITIAL);
  private dev = new Float64Array(INITIAL);
  private ino = new Float64Array(INITIAL);
  /** 1 when the entry is counted through `linked` (a non-directory with more than one link). */
  private isLinked = new Uint8Array(INITIAL);
  /** 1 when the entry's mtime is counted in `recent`. */
  private inRecent = new Uint8Array(INITIAL);
  private used = 0;
  private readonly free: number[] = [];
  /** Each directory's children by name (latin1: one char per byte, so any name is a key). */
  private readonly children = new Map<number, Map<string, number>>();
  /** Directory names (byte-exact), for building paths; directories are few next to files. */
  private readonly dirNames = new Map<number, Buffer>();
  /** Multiply-linked inodes in the tree: "dev:ino" → links in the tree and the inode's size. */
  private readonly linked = new Map<string, { refs: number; size: number; entries: Set<number> }>();
  /**
   * Singly-linked non-directories by "dev:ino", built the first time a link appears after the
   * walk (a link made elsewhere in the tree tells the old name nothing, so the old entry must be
   * found by its inode) and kept from then on; a tree that never sees one never pays for it.
   */
  private byIno: Map<string, number> | undefined;

  bytes = 0;
  files = 0;
  /**
   * The mtimes of regular files recent enough for the longest window, sorted, as of the last
   * settle; what changed since waits in `added` and `removed` (values, unsorted) and is merged
   * in one pass when counted, or once enough has piled up. A change costs a push, not a splice
   * of a list as long as the tree's recent files. Values, not entries: two files of the same
   * mtime are interchangeable for a count.
   */
  private recent = new Float64Array(0);
  private added: number[] = [];
  private removed: number[] = [];
  /**
   * `maxWindowMs`: the longest `modified_within` window; older files are not kept in `recent`.
   * `settleAfter`: changes to the recent mtimes that may wait unmerged beyond a quarter of them
   * (small in tests, so that merges happen between changes).
   */
  constructor(
    private readonly maxWindowMs: number,
    private readonly settleAfter = 4096,
  ) {}

  get entries(): number {
    return this.used - this.free.length;
  }

  /** The root directory's entry; call once, first. */
  addRoot(name: Buffer, st: EntryStat): number {
    return this.add(-1, name, st);
  }

  /**
   * Adds (or replaces) the entry `name` of directory `dir`; returns its index. `seenBefore`:
   * the rest of the tree was read earlier (an event, not the walk), so an entry of the same inode
   * may be counted on its own from a time it had one link.
   */
  add(dir: number, name: Buffer, st: EntryStat, seenBefore = false): number {
    const key = name.toString('latin1');
    if (dir >= 0) {
      const prev = this.children.get(dir)?.get(key);
      if (prev !== undefined) this.remove(dir, key);
    }
    const i = this.alloc();
    this.kind[i] = st.kind;
    this.parent[i] = dir;
    this.size[i] = st.size;
    this.mtime[i] = st.mtimeMs;
    this.dev[i] = st.dev;
    this.ino[i] = st.ino;
    this.isLinked[i] = 0;
    this.inRecent[i] = 0;
    if (dir >= 0) {
      let m = this.children.get(dir);
      if (!m) this.children.set(dir, (m = new Map()));
      m.set(key, i);
    }
    if (st.kind === Kind.Dir) {
      this.children.set(i, new Map());
      this.dirNames.set(i, Buffer.from(name));
    }
    if (st.kind !== Kind.Dir && st.nlink > 1) this.link(i, seenBefore);
    else {
      this.bytes += st.size;
      if (st.kind !== Kind.Dir) this.byIno?.set(this.linkKey(i), i);
    }
    if (st.kind === Kind.File) {
      this.files++;
      this.track(i);
    }
    return i;
  }

  /** The entry `name` of `dir`, or undefined. */
  lookup(dir: number, name: Buffer | string): number | undefined {
    return this.children.get(dir)?.get(typeof name === 'string' ? name : name.toString('latin1'));
  }

  kindOf(i: number): Kind {
    return this.kind[i] as Kind;
  }

  /** Names of a directory's children, as latin1 keys. */
  childNames(dir: number): IterableIterator<string> {
    return (this.children.get(dir) ?? new Map<string, number>()).keys();
  }

  /** The directory's own name as bytes (the root's as given to addRoot). */
  dirName(dir: number): Buffer | undefined {
    return this.dirNames.get(dir);
  }

  parentOf(i: number): number {
    return this.parent[i] as number;
  }

  /** Whether `st` describes the entry as the model has it (nothing to change). */
  same(i: number, st: EntryStat): boolean {
    return (
      this.kind[i] === st.kind &&
      this.size[i] === st.size &&
      this.mtime[i] === st.mtimeMs &&
      this.ino[i] === st.ino &&
      this.dev[i] === st.dev &&
      (this.isLinked[i] === 1) === (st.kind !== Kind.Dir && st.nlink > 1)
    );
  }

  /**
   * Brings an existing entry to what lstat says now. A change of kind or inode is a new entry
   * under the same name (the caller re-walks a directory that replaced a file); returns false then.
   */
  update(i: number, st: EntryStat): boolean {
    if (this.kind[i] !== st.kind || this.ino[i] !== st.ino || this.dev[i] !== st.dev) return false;
    const nowLinked = st.kind !== Kind.Dir && st.nlink > 1;
    if (this.isLinked[i] === 1 && !nowLinked) {
      // Still counted through the inode while another link in the tree may hold it: keep it
      // there (the inode is counted once either way); only its size moves.
      this.setLinkedSize(i, st.size);
    } else if (this.isLinked[i] === 0 && nowLinked) {
      this.bytes -= this.size[i] as number;
      this.size[i] = st.size;
      this.byIno?.delete(this.linkKey(i));
      this.link(i, true);
    } else if (this.isLinked[i] === 1) {
      this.setLinkedSize(i, st.size);
    } else {
      this.bytes += st.size - (this.size[i] as number);
    }
    this.size[i] = st.size;
    if (this.mtime[i] !== st.mtimeMs) {
      // Every link of an inode has its mtime, though the event names only the one written through.
      const others = this.isLinked[i] === 1 ? this.linked.get(this.linkKey(i))?.entries : undefined;
      for (const j of others ?? [i]) {
        this.untrack(j);
        this.mtime[j] = st.mtimeMs;
        if (this.kind[j] === Kind.File) this.track(j);
      }
    }
    return true;
  }

  /** Removes the entry `name` of `dir` and, for a directory, everything below it. Returns the directories removed. */
  remove(dir: number, name: Buffer | string): number[] {
    const key = typeof name === 'string' ? name : name.toString('latin1');
    const m = this.children.get(dir);
    const i = m?.get(key);
    if (i === undefined || !m) return [];
    m.delete(key);
    const removedDirs: number[] = [];
    const stack = [i];
    while (stack.length > 0) {
      const j = stack.pop() as number;
      if (this.kind[j] === Kind.Dir) {
        removedDirs.push(j);
        const kids = this.children.get(j);
        if (kids) for (const k of kids.values()) stack.push(k);
        this.children.delete(j);
        this.dirNames.delete(j);
      }
      this.release(j);
    }
    return removedDirs;
  }

  /** Regular files modified at or after each cutoff (ms since epoch). */
  modifiedSince(cutoffs: readonly number[]): number[] {
    this.settle();
    return cutoffs.map((c) => this.recent.length - lowerBound(this.recent, c));
  }

  private alloc(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    if (this.used === this.kind.length) this.grow();
    return this.used++;
  }

  private grow(): void {
    const n = this.kind.length * 2;
    const g = <T extends Uint8Array | Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.kind = g(this.kind, (k) => new Uint8Array(k));
    this.parent = g(this.parent, (k) => new Int32Array(k));
    this.size = g(this.size, (k) => new Float64Array(k));
    this.mtime = g(this.mtime, (k) => new Float64Array(k));
    this.dev = g(this.dev, (k) => new Float64Array(k));
    this.ino = g(this.ino, (k) => new Float64Array(k));
    this.isLinked = g(this.isLinked, (k) => new Uint8Array(k));
    this.inRecent = g(this.inRecent, (k) => new Uint8Array(k));
  }

  private release(i: number): void {
    if (this.isLinked[i] === 1) this.unlink(i);
    else {
      this.bytes -= this.size[i] as number;
      if (this.kind[i] !== Kind.Dir && this.byIno?.get(this.linkKey(i)) === i) this.byIno.delete(this.linkKey(i));
    }
    if (this.kind[i] === Kind.File) {
      this.files--;
      this.untrack(i);
    }
    this.kind[i] = Kind.Free;
    this.free.push(i);
  }

  private linkKey(i: number): string {
    return `${this.dev[i]}:${this.ino[i]}`;
  }

  /**
   * Counts entry i through its inode. After the walk, an entry of the same inode counted on its
   * own (it had one link when it was read) is moved there too, so the inode is counted once.
   */
  private link(i: number, seenBefore: boolean): void {
    const key = this.linkKey(i);
    let l = this.linked.get(key);
    this.isLinked[i] = 1;
    if (!l) {
      this.linked.set(key, (l = { refs: 0, size: this.size[i] as number, entries: new Set() }));
      this.bytes += l.size;
      if (seenBefore) {
        const j = this.singles().get(key);
        if (j !== undefined && j !== i) {
          this.byIno?.delete(key);
          this.bytes -= this.size[j] as number;
          this.isLinked[j] = 1;
          l.refs++;
          l.entries.add(j);
        }
      }
    }
    l.refs++;
    l.entries.add(i);
  }

  private singles(): Map<string, number> {
    if (!this.byIno) {
      this.byIno = new Map();
      for (let j = 0; j < this.used; j++) {
        const k = this.kind[j];
        if (k !== Kind.Free && k !== Kind.Dir && this.isLinked[j] === 0) this.byIno.set(this.linkKey(j), j);
      }
    }
    return this.byIno;
  }

  private unlink(i: number): void {
    const key = this.linkKey(i);
    const l = this.linked.get(key);
    this.isLinked[i] = 0;
    if (!l) return;
    l.entries.delete(i);
    if (--l.refs === 0) {
      this.linked.delete(key);
      this.bytes -= l.size;
    }
  }

  private setLinkedSize(i: number, size: number): void {
    const l = this.linked.get(this.linkKey(i));
    if (!l) return;
    this.bytes += size - l.size;
    l.size = size;
  }

  private floor(): number {
    return Date.now() - this.maxWindowMs;
  }

  /** Counts a file's mtime for the windows when it is recent enough for the longest. */
  private track(i: number): void {
    const m = this.mtime[i] as number;
    if (this.maxWindowMs <= 0 || m < this.floor()) {
      this.inRecent[i] = 0;
      return;
    }
    this.added.push(m);
    this.inRecent[i] = 1;
    this.settleIfPiled();
  }

  /** Takes a file's current mtime out of the windows' count (before it changes or the file goes). */
  private untrack(i: number): void {
    if (this.inRecent[i] !== 1) return;
    this.inRecent[i] = 0;
    this.removed.push(this.mtime[i] as number);
    this.settleIfPiled();
  }

  /** Bounds what waits unmerged: a merge costs the length of `recent`, so it runs once a fair share of that has piled up. */
  private settleIfPiled(): void {
    if (this.added.length + this.removed.length > this.settleAfter + (this.recent.length >>> 2)) this.settle();
  }

  /**
   * Merges `added` into `recent`, takes `removed` out (a removed value not there had aged out
   * already: every copy of it went then, and none came back, as nothing older than the floor
   * is tracked) and drops what has aged out of the longest window.
   */
  private settle(): void {
    const floor = this.floor();
    const r = this.recent;
    if (this.added.length === 0 && this.removed.length === 0) {
      const cut = lowerBound(r, floor);
      if (cut > 0) this.recent = r.slice(cut);
      return;
    }
    const add = Float64Array.from(this.added).sort();
    const rem = Float64Array.from(this.removed).sort();
    this.added = [];
    this.removed = [];
    const out = new Float64Array(r.length + add.length);
    let i = 0;
    let j = 0;
    let k = 0;
    let n = 0;
    for (;;) {
      // The next value of the union of recent and add, in order.
      let v: number;
      if (i < r.length && (j >= add.length || (r[i] as number) <= (add[j] as number))) v = r[i++] as number;
      else if (j < add.length) v = add[j++] as number;
      else break;
      while (k < rem.length && (rem[k] as number) < v) k++;
      if (k < rem.length && rem[k] === v) {
        k++;
        continue;
      }
      if (v >= floor) out[n++] = v;
    }
    this.recent = n === out.length ? out : out.slice(0, n);
  }
}

/** First index whose mtime is >= t in a list sorted by mtime. */
function lowerBound(a: Float64Array, t: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
