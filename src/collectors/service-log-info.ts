// Log freshness and rotation of each supervised process: the live log's mtime, supervisor's
// rotation settings for it (getAllConfigInfo: `*_logfile_maxbytes`, `*_logfile_backups`) and
// the configured expect_log_write_within. The rotation settings change only when
// supervisord's configuration does, which changes its process list (reread/update, restart),
// so getAllConfigInfo is asked when the list changes, not every scrape. supervisord builds that
// answer in Python, in seconds of its CPU for thousands of programs, so a scrape waits for it
// only briefly: past ROTATION_WAIT_MS the answer lands for a later scrape.
import { expectationFor } from '../config-expectations.js';
import { SourceError, describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { backgroundTimeoutMs, type SupervisorClient, type SupervisorProcess } from '../sources/supervisor.js';
import type { XmlRpcValue } from '../sources/xmlrpc.js';
import type { FamilyBuilder } from './metric-family.js';
import { isLogFile } from '../sources/service-log-files.js';
import { serviceLabels, type ServiceLabels } from './service-labels.js';

const SERVICE = ['group', 'name'] as const;

/** How long the scrape that asks getAllConfigInfo waits for it (a dozen programs answer in milliseconds). */
export const ROTATION_WAIT_MS = 1000;
/** After a failed getAllConfigInfo, the same process list is asked about again only after this long. */
export const ROTATION_RETRY_MS = 60_000;

export interface Rotation {
  maxBytes: number;
  backups: number;
}

/** getAllConfigInfo's answer → rotation settings by group\0name and stream. Exported for tests. */
export function parseRotation(v: XmlRpcValue): Map<string, { stdout?: Rotation; stderr?: Rotation }> {
  const out = new Map<string, { stdout?: Rotation; stderr?: Rotation }>();
  if (!Array.isArray(v)) return out;
  for (const item of v) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) continue;
    const c = item as Record<string, XmlRpcValue>;
    const of = (stream: 'stdout' | 'stderr'): Rotation | undefined => {
      const maxBytes = c[`${stream}_logfile_maxbytes`];
      const backups = c[`${stream}_logfile_backups`];
      const ok = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;
      return ok(maxBytes) && ok(backups) ? { maxBytes, backups } : undefined;
    };
    if (typeof c.group !== 'string' || typeof c.name !== 'string') continue;
    out.set(`${c.group}\u0000${c.name}`, { stdout: of('stdout'), stderr: of('stderr') });
  }
  return out;
}

export class ServiceLogInfo {
  private listKey = '';
  /** The process list (the array itself) whose key is listKey. */
  private listAsked: readonly SupervisorProcess[] | undefined;
  private rotation = new Map<string, { stdout?: Rotation; stderr?: Rotation }>();
  private failedSaid = false;
  /** getAllConfigInfo on its way, at most one. */
  private asking: Promise<void> | undefined;
  /** The key of the list whose getAllConfigInfo failed, and when. */
  private failed: { key: string; at: number } | undefined;
  /** An error that is not supervisord's (a bug) from the background ask: fails the next scrape. */
  private bug: unknown;

  constructor(
    private readonly client: SupervisorClient,
    private readonly expectations: ReadonlyMap<string, number>,
    private readonly log: Logger,
    /** Aborted when the collector stops: ends an ask still on its way. */
    private readonly stopping?: AbortSignal,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * `liveMtimeMs`: the mtime of each process's live stdout (index 2i) and stderr (2i + 1) log,
   * NaN when it is not a regular file (the caller's one lstat of it this scrape).
   */
  async add(b: FamilyBuilder, processes: readonly SupervisorProcess[], labels: readonly ServiceLabels[], liveMtimeMs: Float64Array, signal?: AbortSignal): Promise<void> {
    const lastWrite = b.gauge('hostaudit_service_log_last_write_timestamp_seconds', 'Modification time of the live log file.', [...SERVICE, 'stream']);
    const maxBytes = b.gauge(
      'hostaudit_service_log_rotation_max_bytes',
      "supervisor's stdout_logfile_maxbytes / stderr_logfile_maxbytes (getAllConfigInfo, asked when the process list changes); 0 means the log is never rotated.",
      [...SERVICE, 'stream'],
    );
    const backups = b.gauge(
      'hostaudit_service_log_rotation_backups',
      "supervisor's stdout_logfile_backups / stderr_logfile_backups (getAllConfigInfo, asked when the process list changes).",
      [...SERVICE, 'stream'],
    );
    const expected = b.gauge(
      'hostaudit_service_expected_log_write_within_seconds',
      'The configured expect_log_write_within: the service is silent when its log is older than this.',
      SERVICE,
    );
    await this.refreshRotation(processes, signal);
    for (let i = 0; i < processes.length; i++) {
      const p = processes[i] as SupervisorProcess;
      const L = labels[i] ?? serviceLabels(p, p.description);
      const rot = this.rotation.get(L.key);
      for (const stream of ['stdout', 'stderr'] as const) {
        const file = stream === 'stdout' ? p.stdoutLogfile : p.stderrLogfile;
        const l = stream === 'stdout' ? L.stdout : L.stderr;
        const mtimeMs = liveMtimeMs[2 * i + (stream === 'stdout' ? 0 : 1)];
        if (mtimeMs !== undefined && !Number.isNaN(mtimeMs)) lastWrite(l, mtimeMs / 1000);
        const r = rot?.[stream];
        // Rotation applies to a log file supervisor writes itself (not syslog, not /dev/stdout).
        if (r && isLogFile(file)) {
          maxBytes(l, r.maxBytes);
          backups(l, r.backups);
        }
      }
      const within = expectationFor(this.expectations, p.group, p.name);
      if (within !== undefined) expected(L.service, within / 1000);
    }
  }

  /**
   * Asks getAllConfigInfo when the process list (names and log files) differs from the last
   * one answered for, and waits for the answer at most ROTATION_WAIT_MS. Meanwhile the last
   * answer's settings are served for the programs it named.
   */
  private async refreshRotation(processes: readonly SupervisorProcess[], signal?: AbortSignal): Promise<void> {
    if (this.bug !== undefined) {
      const err = this.bug;
      this.bug = undefined;
      throw err;
    }
    // The supervisor collector serves the same array while it reuses supervisord's list: no key to build.
    if (processes === this.listAsked || this.asking) return;
    const key = processes.map((p) => `${p.group}\u0000${p.name}\u0000${p.stdoutLogfile}\u0000${p.stderrLogfile}`).join('\u0001');
    if (key === this.listKey) {
      this.listAsked = processes;
      return;
    }
    if (this.failed?.key === key && this.now() - this.failed.at < ROTATION_RETRY_MS) return;
    const ask = this.ask(key, processes);
    this.asking = ask;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      ask,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ROTATION_WAIT_MS);
        signal?.addEventListener('abort', () => resolve(), { once: true });
      }),
    ]);
    clearTimeout(timer);
  }

  private async ask(key: string, processes: readonly SupervisorProcess[]): Promise<void> {
    try {
      this.rotation = parseRotation(await this.client.call('supervisor.getAllConfigInfo', [], this.stopping, backgroundTimeoutMs(this.client.timeoutMs)));
      this.listKey = key;
      this.listAsked = processes;
      this.failed = undefined;
      this.failedSaid = false;
    } catch (err) {
      if (!(err instanceof SourceError)) {
        this.bug = err;
        return;
      }
      this.failed = { key, at: this.now() };
      // supervisord before 3.3 has no getAllConfigInfo: no rotation series, said once.
      this.rotation = new Map();
      if (!this.failedSaid && !this.stopping?.aborted) this.log.warn('supervisor.getAllConfigInfo failed: no log rotation figures', { err: describeError(err) });
      this.failedSaid = true;
    } finally {
      this.asking = undefined;
    }
  }
}
