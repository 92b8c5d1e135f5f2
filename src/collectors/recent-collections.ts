// The runner's last two collections, so the live audit page takes CPU rates (and restarts) from
// counters a scrape already read instead of reading /proc and supervisord again for a visitor.
import type { CollectionResult } from './run-collectors.js';

export interface NotedCollection {
  result: CollectionResult;
  /** performance.now() when the collection finished: the moment its counters were read. */
  finishedAt: number;
}

export class RecentCollections {
  last: NotedCollection | undefined;
  previous: NotedCollection | undefined;

  note(result: CollectionResult, finishedAt = performance.now()): void {
    this.previous = this.last;
    this.last = { result, finishedAt };
  }

  /** Milliseconds since the last collection finished; Infinity before the first. */
  ageMs(now = performance.now()): number {
    return this.last ? now - this.last.finishedAt : Infinity;
  }
}
