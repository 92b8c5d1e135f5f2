// The collector contract, after node_exporter: one collector per source, registered by name,
// run concurrently on every scrape; a failing collector is reported, never fatal.
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { ProcReader } from '../sources/proc-tree.js';
import type { ServiceLogFiles } from '../sources/service-log-files.js';
import type { MetricFamily } from './metric-family.js';

export interface CollectContext {
  /** Aborted when the collector's deadline passes or the exporter shuts down. */
  signal: AbortSignal;
  log: Logger;
  /**
   * Readings shared by the collectors of one collection (one pass over /proc serves both the
   * supervisor trees and the host process counts). Fresh for every collection, so nothing
   * read for one scrape is served to the next. Absent when a collector runs on its own.
   */
  memo?: Map<string, unknown>;
}

export interface Collector {
  /** Stable name: the `collector` label of hostaudit_collector_success. */
  readonly name: string;
  /** Reads its source and returns this scrape's families. Throw to mark the collector failed. */
  collect(ctx: CollectContext): Promise<MetricFamily[]>;
  /**
   * Called for every collector of a collection before any collect() starts: begins reads
   * that wait on the kernel rather than on the event loop (the TCP tables' hash walk runs on
   * libuv's threads), so they overlap the other collectors' work instead of trailing it.
   * Results go through ctx.memo. Must not throw. Optional.
   */
  prefetch?(ctx: CollectContext): void;
  /** Starts background work (pollers, scanners). Optional. */
  start?(): void;
  /** Stops background work; resolves when it has stopped. Optional. */
  stop?(): Promise<void>;
}

export interface CollectorDeps {
  config: Config;
  log: Logger;
  /** The /proc reader (root from --path.procfs) the collectors share, with its caches. */
  proc: ProcReader;
  /** The services' log files, recorded by the supervisor collector for the filesystem collector. */
  serviceLogs: ServiceLogFiles;
}

export type CollectorFactory = (deps: CollectorDeps) => Collector | undefined;
