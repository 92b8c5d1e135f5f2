// Every collector, registered by name. A factory returns undefined when its section of the
// config is empty, so an unconfigured source adds no series and no failing collector.
import type { Collector, CollectorDeps, CollectorFactory } from './collector.js';
import { createSupervisorCollector } from './supervisor.js';
import { createPathsCollector } from './paths.js';
import { createSqliteCollector } from './sqlite.js';
import { createProbesCollector } from './probes.js';
import { createFilesCollector } from './files.js';
import { createHostCollector } from './host.js';

export const COLLECTOR_FACTORIES: ReadonlyArray<readonly [string, CollectorFactory]> = [
  ['supervisor', createSupervisorCollector],
  ['paths', createPathsCollector],
  ['sqlite', createSqliteCollector],
  ['probes', createProbesCollector],
  ['files', createFilesCollector],
  ['host', createHostCollector],
];

/** Every collector's name, for --no-collector.NAME. */
export function collectorNames(): string[] {
  return COLLECTOR_FACTORIES.map(([name]) => name);
}

/** The collectors the config asks for, less those switched off (--no-collector.NAME). */
export function createCollectors(deps: CollectorDeps, disabled: readonly string[] = []): Collector[] {
  const out: Collector[] = [];
  for (const [name, factory] of COLLECTOR_FACTORIES) {
    if (disabled.includes(name)) continue;
    const c = factory(deps);
    if (c) out.push(c);
  }
  return out;
}
