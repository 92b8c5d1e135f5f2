// Every collector, registered by name. A factory returns undefined when its section of the
// config is empty, so an unconfigured source adds no series and no failing collector.
import type { Collector, CollectorDeps, CollectorFactory } from './collector.js';
import { ProcReader } from '../sources/proc-tree.js';
import { ServiceLogFiles } from '../sources/service-log-files.js';
import { createFilesystemCollector } from './filesystem.js';
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
  ['filesystem', createFilesystemCollector],
];

/** Every collector's name, for --no-collector.NAME. */
export function collectorNames(): string[] {
  return COLLECTOR_FACTORIES.map(([name]) => name);
}

/**
 * The collectors the config asks for, less those switched off (--no-collector.NAME). They share
 * one /proc reader (with its caches) and one reader of service log files.
 */
export function createCollectors(
  given: Omit<CollectorDeps, 'proc' | 'serviceLogs'> & { procRoot?: string },
  disabled: readonly string[] = [],
): Collector[] {
  const deps: CollectorDeps = { ...given, proc: new ProcReader(given.procRoot), serviceLogs: new ServiceLogFiles() };
  const out: Collector[] = [];
  for (const [name, factory] of COLLECTOR_FACTORIES) {
    if (disabled.includes(name)) continue;
    const c = factory(deps);
    if (c) out.push(c);
  }
  return out;
}
