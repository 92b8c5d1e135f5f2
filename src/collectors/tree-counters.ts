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

interface Seen {
  ppid: number;
  start: number;
  value: number;
}

export class TreeCounter {
  private identity = '';
  private seen = new Map<number, Seen>();
  private kept = 0;
  private high = 0;

  /** foldsIntoParent: the kernel adds a reaped child's figure to its parent's (io, cmajflt). */
  constructor(private readonly foldsIntoParent: boolean) {}

  /**
   * This scrape's total. `identity` names the service's incarnation (root pid and start): a
   * new one starts the count afresh. `samples` are the live members read this scrape; `fate`
   * tells what became of a pid (with its start time) that is not among them.
   */
  update(identity: string, samples: readonly CounterSample[], fate: (pid: number, start: number) => PidFate): number {
    if (identity !== this.identity) {
      this.identity = identity;
      this.seen = new Map();
      this.kept = 0;
      this.high = 0;
    }
    const now = new Map<number, Seen>();
    let sum = 0;
    for (const s of samples) {
      now.set(s.pid, { ppid: s.ppid, start: s.start, value: s.value });
      sum += s.value;
    }
    const carried: Array<[number, Seen]> = [];
    for (const [pid, prev] of this.seen) {
      const cur = now.get(pid);
      if (cur && cur.start === prev.start) continue;
      const f = fate(pid, prev.start);
      if (f === 'zombie' && now.has(prev.ppid)) {
        carried.push([pid, prev]); // its parent will wait for it: decided when it is gone
        continue;
      }
      // Reaped by a parent still in the tree, for a figure the kernel folds in: already in
      // the parent's value. Anything else (left the tree alive, reaped outside it): kept.
      const reapedByTree = f === 'gone' && now.has(prev.ppid);
      if (!(this.foldsIntoParent && reapedByTree)) this.kept += prev.value;
    }
    for (const [pid, prev] of carried) now.set(pid, prev);
    this.seen = now;
    this.high = Math.max(this.high, sum + this.kept);
    return this.high;
  }
}
