// The "files" collector: whether each critical file exists and is readable.
import { checkFiles } from '../sources/critical-files.js';
import type { CollectContext, Collector, CollectorDeps } from './collector.js';
import { FamilyBuilder, type MetricFamily } from './metric-family.js';

export class FilesCollector implements Collector {
  readonly name = 'files';

  constructor(private readonly files: readonly string[]) {}

  async collect(ctx: CollectContext): Promise<MetricFamily[]> {
    const b = new FamilyBuilder();
    const present = b.gauge('hostaudit_file_present', 'Whether the critical file exists and is readable (1) or not (0).', ['path']);
    for (const f of await checkFiles(this.files)) {
      present({ path: f.path }, f.present ? 1 : 0);
      if (!f.present) ctx.log.debug('critical file missing', { path: f.path, reason: f.reason });
    }
    return b.build();
  }
}

export function createFilesCollector(deps: CollectorDeps): Collector | undefined {
  if (deps.config.criticalFiles.length === 0) return undefined;
  return new FilesCollector(deps.config.criticalFiles);
}
