// The "sqlite" collector: for every database matched by the `databases` globs, the sizes of
// its main, -wal and -shm files, the header figures (page size, pages, freelist pages), the
// number of tables and indexes, and whether it is readable at all. Everything is read from
// the files with plain reads (sources/sqlite-file.ts): no SQLite connection, no lock, nothing
// written or created beside a database.
//
// The globs are expanded in the background every scan_interval (a `**` over a data directory
// is a directory walk; a scrape must not pay for it). The databases found are read on every
// scrape: a header and the new part of a WAL are a few reads per database, so sizes and page
// counts are as fresh as the scrape.
import path from 'node:path';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { findDatabases, type DatabaseFile } from '../sources/sqlite-glob.js';
import { SqliteReader, type SqliteReading } from '../sources/sqlite-file.js';
import { SqliteReadError } from '../sources/sqlite-format.js';
import { expectedWriteWithin, lastWriteSeconds } from '../sources/sqlite-freshness.js';
import type { DatabaseEntry } from '../config-expectations.js';
import type { CollectContext, Collector, CollectorDeps } from './collector.js';
import { FamilyBuilder, type MetricFamily } from './metric-family.js';

const LABELS = ['database', 'path'] as const;

export class SqliteCollector implements Collector {
  readonly name = 'sqlite';
  private readonly reader = new SqliteReader();
  private files: DatabaseFile[] = [];
  private firstGlob: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private globbing = false;
  /** Problems already logged, so an unreadable database is said once, not every scrape. */
  private readonly reported = new Map<string, string>();

  constructor(
    private readonly globs: readonly string[],
    private readonly intervalMs: number,
    private readonly log: Logger,
    /** One database's read limit in a scrape, below the collector's deadline: a slow disk costs that database only. */
    private readonly readTimeoutMs = 4000,
    private readonly entries: readonly DatabaseEntry[] = [],
  ) {}

  start(): void {
    this.firstGlob ??= this.expand();
    this.timer ??= setInterval(() => void this.expand(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Re-evaluates the globs now (the one-shot audit; tests). */
  async refresh(_signal?: AbortSignal): Promise<void> {
    await this.expand();
  }

  private async expand(): Promise<void> {
    if (this.globbing) return;
    this.globbing = true;
    try {
      const noted = new Set<string>();
      this.files = await findDatabases(this.globs, (msg, fields) => noted.add(this.noteOnce(msg, fields)));
      // A note no longer made (the link was fixed) is forgotten, so it is said again if it comes back.
      for (const k of this.reported.keys()) if (k.startsWith('note:') && !noted.has(k)) this.reported.delete(k);
      this.reader.retain(new Set(this.files.map((f) => f.path)));
    } catch (err) {
      this.log.warn('expanding databases globs failed', { err: describeError(err) });
    } finally {
      this.globbing = false;
    }
  }

  /** A note about a configured path, logged when it is new or changed, not every expansion; returns its key. */
  private noteOnce(msg: string, fields: Record<string, string>): string {
    const key = `note:${fields.path ?? ''}`;
    const text = `${msg} ${JSON.stringify(fields)}`;
    if (this.reported.get(key) !== text) {
      this.reported.set(key, text);
      this.log.warn(msg, fields);
    }
    return key;
  }

  async collect(ctx: CollectContext): Promise<MetricFamily[]> {
    // Before start() (or before the first expansion finished) the list is taken now.
    await (this.firstGlob ??= this.expand());
    const readings = await Promise.all(this.files.map((f) => this.readOne(f, ctx.signal)));
    const b = new FamilyBuilder();
    const bytes = b.gauge(
      'hostaudit_sqlite_bytes',
      'Size of the database main file and, when present, its -wal and -shm files.',
      [...LABELS, 'file'],
    );
    const pageSize = b.gauge('hostaudit_sqlite_page_size_bytes', 'Page size from the database header.', LABELS);
    const pages = b.gauge('hostaudit_sqlite_pages', 'Pages in the database (as PRAGMA page_count, WAL included).', LABELS);
    const free = b.gauge('hostaudit_sqlite_freelist_pages', 'Unused pages on the freelist (as PRAGMA freelist_count).', LABELS);
    const tables = b.gauge('hostaudit_sqlite_tables', "Tables in the schema (SQLite's internal sqlite_* tables excluded).", LABELS);
    const indexes = b.gauge('hostaudit_sqlite_indexes', "Indexes in the schema (SQLite's automatic sqlite_* indexes excluded).", LABELS);
    const ok = b.gauge('hostaudit_sqlite_ok', 'Whether the file is a readable SQLite database (1) or not (0).', LABELS);
    const lastWrite = b.gauge('hostaudit_sqlite_last_write_timestamp_seconds', 'The newest mtime of the main file and its -wal.', LABELS);
    const expected = b.gauge(
      'hostaudit_sqlite_expected_write_within_seconds',
      "The configured expect_write_within: the database is stale when its last write is older than this.",
      LABELS,
    );
    for (const r of readings) {
      if (!r) continue; // deleted since the last glob: no series
      const l = { database: databaseLabel(r.path), path: r.path };
      bytes({ ...l, file: 'main' }, r.mainBytes);
      if (r.walBytes !== undefined) bytes({ ...l, file: 'wal' }, r.walBytes);
      if (r.shmBytes !== undefined) bytes({ ...l, file: 'shm' }, r.shmBytes);
      ok(l, r.ok ? 1 : 0);
      this.note(r);
      const written = lastWriteSeconds(r.path);
      if (written !== undefined) lastWrite(l, written);
      const within = expectedWriteWithin(this.entries, r.path);
      if (within !== undefined) expected(l, within / 1000);
      if (r.pageSize !== undefined) pageSize(l, r.pageSize);
      if (r.pages !== undefined) pages(l, r.pages);
      if (r.freelistPages !== undefined) free(l, r.freelistPages);
      if (r.tables !== undefined) tables(l, r.tables);
      if (r.indexes !== undefined) indexes(l, r.indexes);
    }
    return b.build();
  }

  /**
   * Reads one database under the collector's deadline and its own shorter limit; both reach
   * every page read, so an abandoned read stops at its next page. Past its own limit the
   * database alone is ok 0 for this scrape; past the deadline the collector has failed anyway.
   */
  private async readOne(f: DatabaseFile, deadline: AbortSignal): Promise<SqliteReading | undefined> {
    const own = AbortSignal.timeout(this.readTimeoutMs);
    try {
      return await this.reader.read(f, AbortSignal.any([deadline, own]));
    } catch (err) {
      if (!(err instanceof SqliteReadError && err.kind === 'aborted') || deadline.aborted) throw err;
      return this.reader.abandoned(f, `read abandoned after ${this.readTimeoutMs} ms`);
    }
  }

  private note(r: SqliteReading): void {
    const prev = this.reported.get(r.path);
    if (!r.ok && r.problem !== prev) {
      this.log.warn('database not readable', { path: r.path, problem: r.problem });
      this.reported.set(r.path, r.problem ?? '');
    } else if (r.ok && prev !== undefined) {
      this.log.info('database readable again', { path: r.path });
      this.reported.delete(r.path);
    }
  }
}

/** The `database` label: the file name without its extension (btc_price_history.db → btc_price_history). */
export function databaseLabel(file: string): string {
  return path.parse(file).name;
}

export function createSqliteCollector(deps: CollectorDeps): Collector | undefined {
  if (deps.config.databases.length === 0) return undefined;
  return new SqliteCollector(
    deps.config.databases,
    deps.config.scanIntervalMs,
    deps.log,
    Math.max(1, Math.floor(deps.config.collectorTimeoutMs / 2)),
    deps.config.databaseEntries,
  );
}
