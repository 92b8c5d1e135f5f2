// The label objects of one supervised process's series. While the supervisor collector reuses
// supervisord's process list (the same array, scrape after scrape, on a large host), the same
// label objects serve every scrape; a new list gets new ones. Samples only read their labels
// (the renderers copy before they change anything), so sharing them is safe.
import { STATE_NAMES, type SupervisorProcess } from '../sources/supervisor.js';
import type { Labels } from './metric-family.js';
import { RestartTracker } from './restart-tracker.js';

export interface ServiceLabels {
  /** RestartTracker.key of the process: group\0name. */
  key: string;
  /** { group, name } */
  service: Labels;
  /** { group, name, description } for hostaudit_service_info. */
  info: Labels;
  /** { group, name, state } for each of STATE_NAMES, index for index. */
  states: Labels[];
  /** { group, name, stream }: the log families. */
  stdout: Labels;
  stderr: Labels;
  /** { group, name, mode } */
  cpuUser: Labels;
  cpuSystem: Labels;
  /** { group, name, direction } */
  ioRead: Labels;
  ioWrite: Labels;
  /** { group, name, kind } */
  voluntary: Labels;
  nonvoluntary: Labels;
}

export function serviceLabels(p: SupervisorProcess, description: string): ServiceLabels {
  // Written out, not spread from one object: a literal is several times cheaper than a spread.
  const { group, name } = p;
  return {
    key: RestartTracker.key(p),
    service: { group, name },
    info: { group, name, description },
    states: STATE_NAMES.map((state) => ({ group, name, state })),
    stdout: { group, name, stream: 'stdout' },
    stderr: { group, name, stream: 'stderr' },
    cpuUser: { group, name, mode: 'user' },
    cpuSystem: { group, name, mode: 'system' },
    ioRead: { group, name, direction: 'read' },
    ioWrite: { group, name, direction: 'write' },
    voluntary: { group, name, kind: 'voluntary' },
    nonvoluntary: { group, name, kind: 'nonvoluntary' },
  };
}

/** The labels of each process of a list, index for index; the same array while the list is the same array. */
export class ServiceLabelCache {
  private last: { processes: readonly SupervisorProcess[]; labels: ServiceLabels[] } | undefined;

  constructor(private readonly describe: (description: string) => string) {}

  of(processes: readonly SupervisorProcess[]): readonly ServiceLabels[] {
    if (this.last?.processes === processes) return this.last.labels;
    const labels = processes.map((p) => serviceLabels(p, this.describe(p.description)));
    this.last = { processes, labels };
    return labels;
  }
}
