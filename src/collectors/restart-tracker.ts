// Counts restarts of supervisor processes from successive observations of their start time
// and pid. Supervisor itself keeps no restart count, so the exporter counts: it is fed by
// every scrape and by a background poll frequent enough to see a service flapping every
// few seconds (supervisor's backoff puts at least a second between two starts).
import type { SupervisorProcess } from '../sources/supervisor.js';

interface Seen {
  start: number;
  pid: number;
  restarts: number;
}

export class RestartTracker {
  private readonly seen = new Map<string, Seen>();

  static key(p: Pick<SupervisorProcess, 'group' | 'name'>): string {
    return `${p.group}\u0000${p.name}`;
  }

  /** Feeds one full process list. Programs no longer configured are forgotten. */
  observe(processes: readonly SupervisorProcess[]): void {
    const present = new Set<string>();
    for (const p of processes) {
      const key = RestartTracker.key(p);
      present.add(key);
      const prev = this.seen.get(key);
      if (!prev) {
        this.seen.set(key, { start: p.start, pid: p.pid, restarts: 0 });
        continue;
      }
      const newStart = p.start > 0 && p.start !== prev.start;
      const newPid = p.pid > 0 && prev.pid > 0 && p.pid !== prev.pid;
      // The first start we ever see (from 0) is not a restart: "starts seen after the first".
      if ((newStart && prev.start > 0) || newPid) prev.restarts++;
      prev.start = p.start > 0 ? p.start : prev.start;
      prev.pid = p.pid > 0 ? p.pid : prev.pid;
    }
    for (const key of this.seen.keys()) if (!present.has(key)) this.seen.delete(key);
  }

  restarts(p: Pick<SupervisorProcess, 'group' | 'name'>): number {
    return this.seen.get(RestartTracker.key(p))?.restarts ?? 0;
  }
}
