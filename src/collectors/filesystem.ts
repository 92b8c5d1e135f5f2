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

/** The nearest existing ancestor of `p` (itself when it exists, `exact`), symlinks resolved. */
function existing(p: string): { real: string; exact: boolean } | undefined {
  for (let cur = p; ; cur = path.dirname(cur)) {
    try {
      return { real: realpathSync(cur), exact: cur === p };
    } catch {
      if (cur === '/') return undefined;
    }
  }
}

/**
 * A target's mount is resolved again at least this often, so a symlink on its path that is
 * pointed elsewhere is followed within this long; a mount or unmount is followed at once.
 */
export const RESOLVE_MAX_AGE_MS = 60_000;

interface Resolved {
  /** The target or its nearest existing ancestor, symlinks resolved; undefined when not even / resolves. */
  real: string | undefined;
  /** The target itself resolved (not an ancestor). */
  exact: boolean;
  mount: Mount | undefined;
  /** When to resolve it again. */
  due: number;
  /** stat of `real` failed (EACCES…): said and skipped, never cached. */
  error?: unknown;
}

function resolveMount(target: string, mounts: readonly Mount[], due: number): Resolved {
  const e = existing(target);
  if (e === undefined) return { real: undefined, exact: false, mount: undefined, due };
  const { real, exact } = e;
  try {
    return { real, exact, mount: mountOf(mounts, devName(statSync(real).dev), real), due };
  } catch (err) {
    return { real, exact, mount: undefined, due, error: err };
  }
}

/** Whether `p` exists now (symlinks followed), with no Error object for the common ENOENT. */
function existsNow(p: string): boolean {
  try {
    return statSync(p, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false; // ENOTDIR, EACCES…: resolving it would find an ancestor too
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
  /** The mount table last parsed, and the text it was parsed from. */
  private table: { who: string; text: string; mounts: Mount[] } | undefined;
  /** Each target's mount, resolved against `table`: cleared when the table's text changes. */
  private readonly resolved = new Map<string, Resolved>();
  /** The service log list the cache was last pruned against (a new list is a new array). */
  private prunedFor: readonly string[] | undefined;
  /** Staggers the first resolutions' expiry, so a thousand log files do not all come due on one scrape. */
  private spread = 0;

  constructor(
    private readonly configured: readonly string[],
    private readonly logs: ServiceLogFiles,
    private readonly proc: ProcReader,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** PID 1's mount table (ours when PID 1's cannot be read), parsed again only when its text changes. */
  private mounts(): Mount[] {
    for (const who of ['1', 'self']) {
      let text: string;
      try {
        text = this.proc.readFile(`${this.proc.root}/${who}/mountinfo`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === undefined) throw err;
        continue;
      }
      const t = this.table;
      if (t && t.who === who && t.text === text) return t.mounts;
      const m = parseMountinfo(text);
      if (m.length === 0) continue;
      // A mount or an unmount can move any target to another filesystem: all are resolved again.
      this.table = { who, text, mounts: m };
      this.resolved.clear();
      return m;
    }
    throw new Error(`cannot read ${this.proc.root}/1/mountinfo or ${this.proc.root}/self/mountinfo`);
  }

  /**
   * The mount of `target`, from the cache until it comes due (a symlink pointed elsewhere is
   * followed then) or, for a target that did not exist, until it does.
   */
  private resolve(target: string, mounts: readonly Mount[], now: number): Resolved {
    const hit = this.resolved.get(target);
    if (hit && now < hit.due && (hit.exact || !existsNow(target))) return hit;
    const age = hit ? RESOLVE_MAX_AGE_MS : RESOLVE_MAX_AGE_MS / 2 + ((this.spread++ % 30) * RESOLVE_MAX_AGE_MS) / 60;
    const r = resolveMount(target, mounts, now + age);
    // A path that could not be stat'ed is tried again next scrape, as before the cache.
    if (r.error === undefined) this.resolved.set(target, r);
    else this.resolved.delete(target);
    return r;
  }

  private prune(targets: readonly string[]): void {
    const list = this.logs.list();
    if (list === this.prunedFor) return;
    this.prunedFor = list;
    const keep = new Set(targets);
    for (const t of this.resolved.keys()) if (!keep.has(t)) this.resolved.delete(t);
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
    this.prune(targets);
    const now = this.now();
    const done = new Set<Mount>();
    for (const t of targets) {
      let real: string | undefined;
      try {
        for (let again = true; ; again = false) {
          const r = this.resolve(t, mounts, now);
          real = r.real;
          if (r.error !== undefined) throw r.error;
          if (r.real === undefined || !r.mount || done.has(r.mount)) break;
          let st;
          try {
            st = statfsSync(r.real);
          } catch (err) {
            // The path resolved on an earlier scrape is gone (a directory removed): resolved again, once.
            const code = (err as NodeJS.ErrnoException).code;
            if (again && (code === 'ENOENT' || code === 'ENOTDIR')) {
              this.resolved.delete(t);
              continue;
            }
            throw err;
          }
          const l = { mountpoint: r.mount.mountpoint, device: r.mount.device, fstype: r.mount.fstype };
          size(l, st.blocks * st.bsize);
          avail(l, st.bavail * st.bsize);
          files(l, st.files);
          filesFree(l, st.ffree);
          done.add(r.mount);
          break;
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === undefined || real === undefined) throw err;
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
