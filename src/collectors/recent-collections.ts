// The runner's last two collections, so the live audit page takes CPU rates (and restarts) from
// counters a scrape already read instead of reading /proc and supervisord again for a visitor.
// The earlier one is kept only for those rates: its other families are dropped, so a large
// host holds one full collection more than before, not two.
import type { MetricFamily } from './metric-family.js';
import type { CollectionResult } from './run-collectors.js';

/** What a rate over the two collections needs from the earlier one (report/build-report.ts). */
const RATE_FAMILIES: ReadonlySet<string> = new Set([
  'hostaudit_supervisor_up',
  'hostaudit_service_cpu_seconds_total',
  'hostaudit_service_restarts_total',
]);

export interface NotedCollection {
  result: CollectionResult;
  /** performance.now() when the collection finished: the moment its counters were read. */
  finishedAt: number;
}

export class RecentCollections {
  last: NotedCollection | undefined;
  previous: NotedCollection | undefined;

  note(result: CollectionResult, finishedAt = performance.now()): void {
    const p = this.last;
    this.previous = p && {
      finishedAt: p.finishedAt,
      result: { ...p.result, families: p.result.families.filter((f: MetricFamily) => RATE_FAMILIES.has(f.name)) },
    };
    this.last = { result, finishedAt };
  }

  /** Milliseconds since the last collection finished; Infinity before the first. */
  ageMs(now = performance.now()): number {
    return this.last ? now - this.last.finishedAt : Infinity;
  }
}
