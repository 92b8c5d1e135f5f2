// The "sqlite" collector (in progress).
import type { Collector, CollectorDeps } from './collector.js';

export function createSqliteCollector(_deps: CollectorDeps): Collector | undefined {
  return undefined;
}
