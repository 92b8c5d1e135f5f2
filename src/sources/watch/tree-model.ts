// The state of one watched tree, kept so that a filesystem event changes the figures by what
// changed, not by a new walk: every entry (name, kind, size, mtime, inode) and the totals
// `du -sb` and `find -type f` would give. Pure: no I/O; the watcher (watched-tree.ts) feeds it
// what lstat said. Entries live in typed arrays (struct of arrays) indexed by a number, their
// names as bytes in one arena, found through one open-addressing table keyed by (directory,
// name), so a large tree costs a few dozen bytes an entry and next to nothing on the JS heap.
import { IndexColumn, U64Column } from './columns.js';

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
/** An entry's flags byte: its Kind in the low two bits, then these. */
const KIND = 0b0011;
/** Counted through `linked` (a non-directory with more than one link). */
const LINKED = 0b0100;
/** Its mtime is counted in `recent`. */
const RECENT = 0b1000;
/** Longest name an entry below the root may have (NAME_MAX). */
export const NAME_MAX = 255;

export interface TreeModelOptions {
  /**
   * Changes to the recent mtimes that may wait unmerged beyond a quarter of them (small in
   * tests, so that merges happen between changes).
   */
  settleAfter?: number;
  /** ANDed into every name hash: tests make names collide with a small one. */
  hashMask?: number;
}

export class TreeModel {
  /** Kind, LINKED and RECENT. */
  private flags = new Uint8Array(INITIAL);
  private parent = new Int32Array(INITIAL);
  private readonly size = new U64Column(INITIAL);
  private mtime = new Float64Array(INITIAL);
  /** Index into `devs`: a tree spans a few devices, not one per entry. */
  private readonly dev = new IndexColumn(INITIAL);
  private readonly ino = new U64Column(INITIAL);
  /** The entry's name: `nameLen` bytes at `nameOff` in `arena` (the root's is `rootName`). */
  private nameOff = new Uint32Array(INITIAL);
  private nameLen = new Uint8Array(INITIAL);
  /** The entry's siblings in its directory's list (-1 at either end). */
  private next = new Int32Array(INITIAL);
  private prev = new Int32Array(INITIAL);
  private used = 0;
  private readonly free: number[] = [];
  /** Each directory's first child (-1: none); a key for every directory. */
  private readonly heads = new Map<number, number>();
  /** Every name below the root, byte-exact, one after another; freed ones are reclaimed by compaction. */
  private arena = Buffer.alloc(64 * 1024);
  private arenaUsed = 0;
  private arenaFree = 0;
  private rootName = Buffer.alloc(0);
  private rootIndex = -1;
  /**
   * Every entry below the root by (directory, name): open addressing with linear probing,
   * entry index + 1 in each slot (0: empty), deletes by backward shift (no tombstones).
   */
  private slots = new Int32Array(2 * INITIAL);
  private slotsUsed = 0;
  private readonly hashMask: number;
  private readonly settleAfter: number;
  private readonly devs: number[] = [];
  private readonly devIndex = new Map<number, number>();
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
  /** `maxWindowMs`: the longest `modified_within` window; older files are not kept in `recent`. */
  constructor(
    private readonly maxWindowMs: number,
    opts: TreeModelOptions = {},
  ) {
    this.settleAfter = opts.settleAfter ?? 4096;
    this.hashMask = opts.hashMask ?? -1;
  }

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
    if (dir >= 0) {
      if (name.length > NAME_MAX) throw new RangeError(`a name of ${name.length} bytes (NAME_MAX is ${NAME_MAX})`);
      if (this.find(dir, name) >= 0) this.remove(dir, name);
    }
    const i = this.alloc();
    if (dir >= 0) {
      this.nameOff[i] = this.store(name);
      this.nameLen[i] = name.length;
    } else {
      this.rootName = Buffer.from(name);
      this.rootIndex = i;
      this.nameLen[i] = 0;
    }
    this.flags[i] = st.kind;
    this.parent[i] = dir;
    this.size.set(i, st.size);
    this.mtime[i] = st.mtimeMs;
    this.dev.set(i, this.devOf(st.dev));
    this.ino.set(i, st.ino);
    this.next[i] = -1;
    this.prev[i] = -1;
    if (dir >= 0) {
      this.insert(i);
      const h = this.heads.get(dir) ?? -1;
      this.next[i] = h;
      if (h >= 0) this.prev[h] = i;
      this.heads.set(dir, i);
    }
    if (st.kind === Kind.Dir) this.heads.set(i, -1);
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

  /** The entry `name` of `dir` (a Buffer, or its latin1 key), or undefined. */
  lookup(dir: number, name: Buffer | string): number | undefined {
    const i = this.find(dir, name);
    return i >= 0 ? i : undefined;
  }

  kindOf(i: number): Kind {
    return ((this.flags[i] as number) & KIND) as Kind;
  }

  /** Whether entry i is a directory in the tree (false once removed). */
  isDir(i: number): boolean {
    return i >= 0 && i < this.used && this.kindOf(i) === Kind.Dir;
  }

  private isLinked(i: number): boolean {
    return ((this.flags[i] as number) & LINKED) !== 0;
  }

  private setFlag(i: number, flag: number, on: boolean): void {
    const f = this.flags[i] as number;
    this.flags[i] = on ? f | flag : f & ~flag;
  }

  /** Names of a directory's children, as latin1 keys. */
  *childNames(dir: number): IterableIterator<string> {
    if (!this.isDir(dir)) return;
    for (let c = this.heads.get(dir) ?? -1; c >= 0; c = this.next[c] as number) yield this.keyOf(c);
  }

  /** The entry's name as a latin1 key (the root's as given to addRoot). */
  keyOf(i: number): string {
    if (i === this.rootIndex) return this.rootName.toString('latin1');
    const off = this.nameOff[i] as number;
    return this.arena.toString('latin1', off, off + (this.nameLen[i] as number));
  }

  /** The directory's own name as bytes (the root's as given to addRoot). */
  dirName(dir: number): Buffer | undefined {
    if (!this.isDir(dir)) return undefined;
    if (dir === this.rootIndex) return this.rootName;
    const off = this.nameOff[dir] as number;
    return Buffer.from(this.arena.subarray(off, off + (this.nameLen[dir] as number)));
  }

  parentOf(i: number): number {
    return this.parent[i] as number;
  }

  /** Whether `st` describes the entry as the model has it (nothing to change). */
  same(i: number, st: EntryStat): boolean {
    return (
      this.kindOf(i) === st.kind &&
      this.size.get(i) === st.size &&
      this.mtime[i] === st.mtimeMs &&
      this.ino.get(i) === st.ino &&
      this.devs[this.dev.get(i)] === st.dev &&
      this.isLinked(i) === (st.kind !== Kind.Dir && st.nlink > 1)
    );
  }

  /**
   * Brings an existing entry to what lstat says now. A change of kind or inode is a new entry
   * under the same name (the caller re-walks a directory that replaced a file); returns false then.
   */
  update(i: number, st: EntryStat): boolean {
    if (this.kindOf(i) !== st.kind || this.ino.get(i) !== st.ino || this.devs[this.dev.get(i)] !== st.dev) return false;
    const nowLinked = st.kind !== Kind.Dir && st.nlink > 1;
    const wasLinked = this.isLinked(i);
    if (wasLinked && !nowLinked) {
      // Still counted through the inode while another link in the tree may hold it: keep it
      // there (the inode is counted once either way); only its size moves.
      this.setLinkedSize(i, st.size);
    } else if (!wasLinked && nowLinked) {
      this.bytes -= this.size.get(i);
      this.size.set(i, st.size);
      this.byIno?.delete(this.linkKey(i));
      this.link(i, true);
    } else if (wasLinked) {
      this.setLinkedSize(i, st.size);
    } else {
      this.bytes += st.size - this.size.get(i);
    }
    this.size.set(i, st.size);
    if (this.mtime[i] !== st.mtimeMs) {
      // Every link of an inode has its mtime, though the event names only the one written through.
      const others = this.isLinked(i) ? this.linked.get(this.linkKey(i))?.entries : undefined;
      for (const j of others ?? [i]) {
        this.untrack(j);
        this.mtime[j] = st.mtimeMs;
        if (this.kindOf(j) === Kind.File) this.track(j);
      }
    }
    return true;
  }

  /** Removes the entry `name` of `dir` and, for a directory, everything below it. Returns the directories removed. */
  remove(dir: number, name: Buffer | string): number[] {
    const i = this.find(dir, name);
    if (i < 0) return [];
    // Out of its directory's list; what is below it goes whole, lists and all.
    const p = this.prev[i] as number;
    const n = this.next[i] as number;
    if (p >= 0) this.next[p] = n;
    else this.heads.set(dir, n);
    if (n >= 0) this.prev[n] = p;
    const removedDirs: number[] = [];
    const stack = [i];
    while (stack.length > 0) {
      const j = stack.pop() as number;
      if (this.kindOf(j) === Kind.Dir) {
        removedDirs.push(j);
        for (let c = this.heads.get(j) ?? -1; c >= 0; c = this.next[c] as number) stack.push(c);
        this.heads.delete(j);
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
    if (this.used === this.flags.length) this.grow();
    return this.used++;
  }

  private grow(): void {
    const n = this.flags.length * 2;
    const g = <T extends Uint8Array | Int32Array | Uint32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.flags = g(this.flags, (k) => new Uint8Array(k));
    this.parent = g(this.parent, (k) => new Int32Array(k));
    this.size.grow(n);
    this.mtime = g(this.mtime, (k) => new Float64Array(k));
    this.dev.grow(n);
    this.ino.grow(n);
    this.nameOff = g(this.nameOff, (k) => new Uint32Array(k));
    this.nameLen = g(this.nameLen, (k) => new Uint8Array(k));
    this.next = g(this.next, (k) => new Int32Array(k));
    this.prev = g(this.prev, (k) => new Int32Array(k));
  }

  /** Bytes of the model's typed arrays, its arena and name table (tests and the memory notes). */
  get byteLength(): number {
    return (
      this.flags.byteLength +
      this.parent.byteLength +
      this.size.byteLength +
      this.mtime.byteLength +
      this.dev.byteLength +
      this.ino.byteLength +
      this.nameOff.byteLength +
      this.nameLen.byteLength +
      this.next.byteLength +
      this.prev.byteLength +
      this.arena.byteLength +
      this.slots.byteLength +
      this.recent.byteLength
    );
  }

  private release(i: number): void {
    const kind = this.kindOf(i);
    if (this.isLinked(i)) this.unlink(i);
    else {
      this.bytes -= this.size.get(i);
      if (kind !== Kind.Dir && this.byIno?.get(this.linkKey(i)) === i) this.byIno.delete(this.linkKey(i));
    }
    if (kind === Kind.File) {
      this.files--;
      this.untrack(i);
    }
    if (this.parent[i] as number >= 0) {
      this.unhash(i);
      this.arenaFree += this.nameLen[i] as number;
    }
    this.flags[i] = Kind.Free;
    this.free.push(i);
  }

  private devOf(dev: number): number {
    let d = this.devIndex.get(dev);
    if (d === undefined) {
      d = this.devs.length;
      this.devs.push(dev);
      this.devIndex.set(dev, d);
    }
    return d;
  }

  /** Copies a name into the arena; returns its offset. */
  private store(name: Buffer): number {
    if (this.arenaUsed + name.length > this.arena.length) this.makeRoom(name.length);
    const off = this.arenaUsed;
    name.copy(this.arena, off);
    this.arenaUsed += name.length;
    return off;
  }

  /**
   * Room for `need` more bytes: the live names are copied into a new arena, twice as large
   * unless freed names make up half of the old one (then the same size).
   */
  private makeRoom(need: number): void {
    const live = this.arenaUsed - this.arenaFree;
    let cap = this.arena.length;
    if (live + need > cap / 2) cap *= 2;
    while (live + need > cap) cap *= 2;
    const next = Buffer.alloc(cap);
    let off = 0;
    for (let i = 0; i < this.used; i++) {
      if (this.kindOf(i) === Kind.Free || (this.parent[i] as number) < 0) continue;
      const o = this.nameOff[i] as number;
      const len = this.nameLen[i] as number;
      this.arena.copy(next, off, o, o + len);
      this.nameOff[i] = off;
      off += len;
    }
    this.arena = next;
    this.arenaUsed = off;
    this.arenaFree = 0;
  }

  /** A hash of (directory, name), the name as bytes or as its latin1 key. */
  private hash(dir: number, name: Buffer | string): number {
    if (typeof name !== 'string') return this.hashBytes(dir, name, 0, name.length);
    let h = Math.imul(dir ^ 0x5bd1e995, 0x9e3779b1) ^ 0x811c9dc5;
    for (let k = 0; k < name.length; k++) h = Math.imul(h ^ (name.charCodeAt(k) & 0xff), 16777619);
    return finish(h) & this.hashMask;
  }

  private hashBytes(dir: number, a: Uint8Array, off: number, len: number): number {
    let h = Math.imul(dir ^ 0x5bd1e995, 0x9e3779b1) ^ 0x811c9dc5;
    for (let k = off; k < off + len; k++) h = Math.imul(h ^ (a[k] as number), 16777619);
    return finish(h) & this.hashMask;
  }

  /** The hash of entry i's own (directory, name), from the arena. */
  private hashOf(i: number): number {
    return this.hashBytes(this.parent[i] as number, this.arena, this.nameOff[i] as number, this.nameLen[i] as number);
  }

  private nameIs(i: number, name: Buffer | string): boolean {
    const len = this.nameLen[i] as number;
    if (len !== name.length) return false;
    const off = this.nameOff[i] as number;
    const a = this.arena;
    if (typeof name === 'string') {
      for (let k = 0; k < len; k++) if (a[off + k] !== (name.charCodeAt(k) & 0xff)) return false;
    } else {
      for (let k = 0; k < len; k++) if (a[off + k] !== name[k]) return false;
    }
    return true;
  }

  /** The entry `name` of `dir`, or -1. */
  private find(dir: number, name: Buffer | string): number {
    if (dir < 0) return -1;
    const mask = this.slots.length - 1;
    for (let s = this.hash(dir, name) & mask; ; s = (s + 1) & mask) {
      const v = this.slots[s] as number;
      if (v === 0) return -1;
      const i = v - 1;
      if (this.parent[i] === dir && this.nameIs(i, name)) return i;
    }
  }

  private insert(i: number): void {
    if ((this.slotsUsed + 1) * 4 > this.slots.length * 3) this.rehash(this.slots.length * 2);
    this.place(this.slots, i);
    this.slotsUsed++;
  }

  private place(slots: Int32Array, i: number): void {
    const mask = slots.length - 1;
    let s = this.hashOf(i) & mask;
    while (slots[s] !== 0) s = (s + 1) & mask;
    slots[s] = i + 1;
  }

  private rehash(size: number): void {
    const slots = new Int32Array(size);
    const old = this.slots;
    for (let s = 0; s < old.length; s++) {
      const v = old[s] as number;
      if (v !== 0) this.place(slots, v - 1);
    }
    this.slots = slots;
  }

  /** Takes entry i out of the table; the entries after it in its run move back to keep every probe unbroken. */
  private unhash(i: number): void {
    const slots = this.slots;
    const mask = slots.length - 1;
    let s = this.hashOf(i) & mask;
    while (slots[s] !== i + 1) {
      if (slots[s] === 0) throw new Error(`entry ${i} is not in the name table`);
      s = (s + 1) & mask;
    }
    let hole = s;
    for (let j = (s + 1) & mask; slots[j] !== 0; j = (j + 1) & mask) {
      const home = this.hashOf((slots[j] as number) - 1) & mask;
      // Moved back when the hole lies between its home and where it is (cyclically).
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        slots[hole] = slots[j] as number;
        hole = j;
      }
    }
    slots[hole] = 0;
    this.slotsUsed--;
  }

  /** The inode's key: device (its index) and inode number. */
  private linkKey(i: number): string {
    return `${this.dev.get(i)}:${this.ino.get(i)}`;
  }

  /**
   * Counts entry i through its inode. After the walk, an entry of the same inode counted on its
   * own (it had one link when it was read) is moved there too, so the inode is counted once.
   */
  private link(i: number, seenBefore: boolean): void {
    const key = this.linkKey(i);
    let l = this.linked.get(key);
    this.setFlag(i, LINKED, true);
    if (!l) {
      this.linked.set(key, (l = { refs: 0, size: this.size.get(i), entries: new Set() }));
      this.bytes += l.size;
      if (seenBefore) {
        const j = this.singles().get(key);
        if (j !== undefined && j !== i) {
          this.byIno?.delete(key);
          this.bytes -= this.size.get(j);
          this.setFlag(j, LINKED, true);
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
        const k = this.kindOf(j);
        if (k !== Kind.Free && k !== Kind.Dir && !this.isLinked(j)) this.byIno.set(this.linkKey(j), j);
      }
    }
    return this.byIno;
  }

  private unlink(i: number): void {
    const key = this.linkKey(i);
    const l = this.linked.get(key);
    this.setFlag(i, LINKED, false);
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
      this.setFlag(i, RECENT, false);
      return;
    }
    this.added.push(m);
    this.setFlag(i, RECENT, true);
    this.settleIfPiled();
  }

  /** Takes a file's current mtime out of the windows' count (before it changes or the file goes). */
  private untrack(i: number): void {
    if (((this.flags[i] as number) & RECENT) === 0) return;
    this.setFlag(i, RECENT, false);
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

/** The last mixing of a name hash (FNV-1a's low bits alone cluster for names that differ at the end). */
function finish(h: number): number {
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h;
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
