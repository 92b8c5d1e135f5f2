// Counters summed over a service's process tree that never go down while the service runs,
// though processes of the tree exit. Pure bookkeeping, no I/O.
//
// The kernel folds some of a reaped child's figures into its parent (/proc/PID/io, the
// cmajflt of /proc/PID/stat) and not others (the context switches of /proc/PID/status). So a
// process that leaves the tree is accounted by what became of it:
// - gone from /proc while the parent it last had is still in the tree: that parent reaped it;
//   for a figure the kernel folds in, the parent's own value now holds it, so nothing is kept;
// - otherwise (re-parented out of the tree by a double fork, reaped by a subreaper outside
//   it, or a figure the kernel does not fold in): its last-seen value is kept for it.
// A high-water mark on top covers a child between its exit and its parent's wait (a zombie
// is not read, and its figures are not yet in the parent's).

export interface CounterSample {
  pid: number;
  ppid: number;
  /** Start time (clock ticks after boot): a pid reused by a new process is another process. */
  start: number;
  value: number;
}

/** What /proc says now of a pid once seen: gone, a zombie (exited, not yet waited for), or alive. */
export type PidFate = 'gone' | 'zombie' | 'alive';

/**
 * A tree's live members column by column (row i is one process), so the counters of a tree
 * share one set of rows and a caller can reuse them from tree to tree: rows 0..length-1 count.
 */
export class TreeRows {
  length = 0;
  pid = new Float64Array(16);
  ppid = new Float64Array(16);
  start = new Float64Array(16);

  /** Empties the rows and makes room for `n`. */
  reset(n: number): void {
    this.length = 0;
    if (n <= this.pid.length) return;
    let cap = this.pid.length;
    while (cap < n) cap *= 2;
    this.pid = new Float64Array(cap);
    this.ppid = new Float64Array(cap);
    this.start = new Float64Array(cap);
  }

  push(pid: number, ppid: number, start: number): void {
    const i = this.length++;
    this.pid[i] = pid;
    this.ppid[i] = ppid;
    this.start[i] = start;
  }
}

/** Values for rows, index for index, grown as needed; NaN: this row's figure was not read. */
export function valueColumn(col: Float64Array, n: number): Float64Array {
  return col.length >= n ? col : new Float64Array(Math.max(n, col.length * 2));
}

/**
 * One pid's entry, updated in place from scrape to scrape: `ppid`, `start`, `value` are what
 * the last update kept for it; `cur*` this update's sample, when `gen` is this update's.
 */
interface Seen {
  pid: number;
  ppid: number;
  start: number;
  value: number;
  gen: number;
  curPpid: number;
  curStart: number;
  curValue: number;
  /** Entered by this update: nothing kept for it yet. */
  fresh: boolean;
}

export class TreeCounter {
  private identity = '';
  private seen = new Map<number, Seen>();
  private kept = 0;
  private high = 0;
  /** This update's number: an entry whose `gen` is it was sampled by this update. */
  private gen = 0;
  /** This update's fate, for settle (not kept past the update). */
  private fate: ((pid: number, start: number) => PidFate) | undefined;

  /** foldsIntoParent: the kernel adds a reaped child's figure to its parent's (io, cmajflt). */
  constructor(private readonly foldsIntoParent: boolean) {}

  /**
   * This scrape's total. `identity` names the service's incarnation (root pid and start): a
   * new one starts the count afresh. `samples` are the live members read this scrape; `fate`
   * tells what became of a pid (with its start time) that is not among them.
   */
  update(identity: string, samples: readonly CounterSample[], fate: (pid: number, start: number) => PidFate): number {
    const rows = new TreeRows();
    rows.reset(samples.length);
    const values = new Float64Array(samples.length);
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i] as CounterSample;
      rows.push(s.pid, s.ppid, s.start);
      values[i] = s.value;
    }
    return this.updateRows(identity, rows, values, fate);
  }

  /**
   * update() over rows: the samples are the rows whose value is not NaN. The entries of pids
   * seen before are updated in place, so a tree that keeps its processes allocates nothing.
   */
  updateRows(identity: string, rows: TreeRows, values: Float64Array, fate: (pid: number, start: number) => PidFate): number {
    const seen = this.seen;
    if (identity !== this.identity) {
      this.identity = identity;
      seen.clear();
      this.kept = 0;
      this.high = 0;
    }
    const g = ++this.gen;
    let sum = 0;
    for (let i = 0; i < rows.length; i++) {
      const value = values[i] as number;
      if (Number.isNaN(value)) continue;
      const pid = rows.pid[i] as number;
      let e = seen.get(pid);
      if (!e) {
        e = { pid, ppid: 0, start: 0, value: 0, gen: 0, curPpid: 0, curStart: 0, curValue: 0, fresh: true };
        seen.set(pid, e);
      }
      // A pid twice among the samples: the last one stands (its sum counts both, as a Map.set would).
      e.gen = g;
      e.curPpid = rows.ppid[i] as number;
      e.curStart = rows.start[i] as number;
      e.curValue = value;
      sum += value;
    }
    // forEach with a callback made once per counter: a for-of over the Map would allocate an
    // iterator result per entry.
    this.fate = fate;
    try {
      seen.forEach(this.settle);
    } finally {
      this.fate = undefined;
    }
    this.high = Math.max(this.high, sum + this.kept);
    return this.high;
  }

  /** One entry after this update's samples: accounts a process that left, promotes a sampled one, drops the rest. */
  private readonly settle = (e: Seen): void => {
    const seen = this.seen;
    const g = this.gen;
    const isSampled = e.gen === g;
    if (!e.fresh && !(isSampled && e.curStart === e.start)) {
      const f = (this.fate as (pid: number, start: number) => PidFate)(e.pid, e.start);
      // Whether its parent is among this update's samples (the entries kept for zombies are not).
      const parentSampled = seen.get(e.ppid)?.gen === g;
      if (f === 'zombie' && parentSampled) return; // its parent will wait for it: decided when it is gone; its entry stays as it was
      // Reaped by a parent still in the tree, for a figure the kernel folds in: already in
      // the parent's value. Anything else (left the tree alive, reaped outside it): kept.
      const reapedByTree = f === 'gone' && parentSampled;
      if (!(this.foldsIntoParent && reapedByTree)) this.kept += e.value;
    }
    if (!isSampled) {
      seen.delete(e.pid);
      return;
    }
    e.fresh = false;
    e.ppid = e.curPpid;
    e.start = e.curStart;
    e.value = e.curValue;
  };
}
