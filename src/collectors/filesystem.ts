// The "filesystem" collector: size, space available to an unprivileged user, and inodes
// (statfs) of every filesystem holding a configured path, database or service log, labelled
// by mountpoint, device and fstype as PID 1's mount table names them (the host's, also when
// the exporter runs in a container with `pid: host`; our own table when PID 1's cannot be read).
import { realpathSync, statfsSync, statSync } from 'node:fs';
import path from 'node:path';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { devName, mountOf, parseMountinfo, type Mount } from '../sources/mountinfo.js';
import type { ProcReader } from '../sources/proc-tree.js';
import type { ServiceLogFiles } from '../sources/service-log-files.js';
import type { CollectContext, Collector, CollectorDeps } from './collector.js';
import { FamilyBuilder, type MetricFamily } from './metric-family.js';

const LABELS = ['mountpoint', 'device', 'fstype'] as const;

/** The nearest existing ancestor of `p` (itself when it exists), symlinks resolved. */
function existing(p: string): string | undefined {
  for (let cur = p; ; cur = path.dirname(cur)) {
    try {
      return realpathSync(cur);
    } catch {
      if (cur === '/') return undefined;
    }
  }
}

/** The fixed part of a glob: the directory before its first wildcard. */
export function globBase(glob: string): string {
  const segs = glob.split('/');
  const i = segs.findIndex((s) => /[*?[\]{}]/.test(s));
  return i < 0 ? glob : segs.slice(0, i).join('/') || '/';
}

export class FilesystemCollector implements Collector {
  readonly name = 'filesystem';
  /** Problems already logged (a path that stays unreadable is said once). */
  private readonly said = new Set<string>();

  constructor(
    private readonly configured: readonly string[],
    private readonly logs: ServiceLogFiles,
    private readonly proc: ProcReader,
    private readonly log: Logger,
  ) {}

  private mounts(): Mount[] {
    for (const who of ['1', 'self']) {
      try {
        const m = parseMountinfo(this.proc.readFile(`${this.proc.root}/${who}/mountinfo`));
        if (m.length > 0) return m;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === undefined) throw err;
      }
    }
    throw new Error(`cannot read ${this.proc.root}/1/mountinfo or ${this.proc.root}/self/mountinfo`);
  }

  async collect(_ctx: CollectContext): Promise<MetricFamily[]> {
    const b = new FamilyBuilder();
    const size = b.gauge('hostaudit_filesystem_size_bytes', 'Size of the filesystem (statfs blocks × block size).', LABELS);
    const avail = b.gauge('hostaudit_filesystem_avail_bytes', 'Space available to an unprivileged user (statfs bavail × block size).', LABELS);
    const files = b.gauge('hostaudit_filesystem_files', 'Inodes of the filesystem.', LABELS);
    const filesFree = b.gauge('hostaudit_filesystem_files_free', 'Free inodes of the filesystem.', LABELS);
    const targets = [...this.configured, ...this.logs.list()];
    if (targets.length === 0) return b.build();
    const mounts = this.mounts();
    const done = new Set<Mount>();
    for (const t of targets) {
      const real = existing(t);
      if (real === undefined) continue;
      let mount: Mount | undefined;
      try {
        mount = mountOf(mounts, devName(statSync(real).dev), real);
        if (!mount || done.has(mount)) continue;
        const st = statfsSync(real);
        const l = { mountpoint: mount.mountpoint, device: mount.device, fstype: mount.fstype };
        size(l, st.blocks * st.bsize);
        avail(l, st.bavail * st.bsize);
        files(l, st.files);
        filesFree(l, st.ffree);
        done.add(mount);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === undefined) throw err;
        if (!this.said.has(real)) this.log.warn('statfs failed', { path: real, err: describeError(err) });
        this.said.add(real);
      }
    }
    return b.build();
  }
}

export function createFilesystemCollector(deps: CollectorDeps): Collector {
  const c = deps.config;
  const configured = [...c.paths.map((p) => p.path), ...c.databases.map(globBase), ...c.criticalFiles];
  return new FilesystemCollector(configured, deps.serviceLogs, deps.proc, deps.log);
}
