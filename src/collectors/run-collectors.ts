// Runs every collector concurrently, each under its own deadline, and adds the per-collector
// success and duration families. One collection serves every scrape that arrives while it is
// in flight, so N concurrent scrapes ask supervisord once, not N times.
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Collector } from './collector.js';
import { FamilyBuilder, type MetricFamily } from './metric-family.js';
import { RecentCollections } from './recent-collections.js';

export interface CollectionResult {
  families: MetricFamily[];
  /** Wall-clock time the collection started (ms since epoch). */
  startedAt: number;
}

export class CollectorRunner {
  private inFlight: Promise<CollectionResult> | undefined;
  private readonly shutdown = new AbortController();
  /** How many collections actually ran (tests assert coalescing with it). */
  collections = 0;
  /** The last two collections, for the live audit page. */
  readonly recent = new RecentCollections();

  constructor(
    readonly collectors: readonly Collector[],
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    for (const c of this.collectors) c.start?.();
  }

  async stop(): Promise<void> {
    this.shutdown.abort();
    await Promise.allSettled(this.collectors.map((c) => c.stop?.()));
  }

  /** Returns the collection in flight, or starts one. */
  collect(): Promise<CollectionResult> {
    if (!this.inFlight) {
      this.inFlight = this.run().finally(() => {
        this.inFlight = undefined;
      });
    }
    return this.inFlight;
  }

  private async run(): Promise<CollectionResult> {
    this.collections++;
    const startedAt = Date.now();
    const memo = new Map<string, unknown>();
    for (const c of this.collectors) {
      try {
        c.prefetch?.({ signal: this.shutdown.signal, log: this.log, memo });
      } catch (err) {
        // Its collect() reads again and reports what fails.
        this.log.debug('prefetch failed', { collector: c.name, err: describeError(err) });
      }
    }
    const outcomes = await Promise.all(this.collectors.map((c) => this.runOne(c, memo)));
    const meta = new FamilyBuilder();
    const success = meta.gauge(
      'hostaudit_collector_success',
      'Whether the collector succeeded on the last scrape (1) or failed or timed out (0).',
      ['collector'],
    );
    const duration = meta.gauge(
      'hostaudit_collector_duration_seconds',
      'How long the collector took on the last scrape.',
      ['collector'],
    );
    const families: MetricFamily[] = [];
    for (const o of outcomes) {
      success({ collector: o.name }, o.ok ? 1 : 0);
      duration({ collector: o.name }, o.seconds);
      families.push(...o.families);
    }
    families.push(...meta.build());
    const result = { families, startedAt };
    this.recent.note(result);
    return result;
  }

  private async runOne(c: Collector, memo: Map<string, unknown>): Promise<{ name: string; ok: boolean; seconds: number; families: MetricFamily[] }> {
    const t0 = process.hrtime.bigint();
    const ac = new AbortController();
    const onShutdown = (): void => ac.abort(new Error('exporter shutting down'));
    this.shutdown.signal.addEventListener('abort', onShutdown, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new Error(`timed out after ${this.timeoutMs}ms`);
        ac.abort(err);
        reject(err);
      }, this.timeoutMs);
    });
    const work = c.collect({ signal: ac.signal, log: this.log, memo });
    try {
      const families = await Promise.race([work, deadline]);
      return { name: c.name, ok: true, seconds: elapsed(t0), families };
    } catch (err) {
      this.log.warn('collector failed', { collector: c.name, err: describeError(err) });
      // The abort tells the collector to stop; say when its work really ended, so work that
      // runs on past its deadline shows in the log.
      if (ac.signal.aborted) {
        const settled = (): void => this.log.debug('collector work ended', { collector: c.name, seconds: elapsed(t0) });
        work.then(settled, settled);
      }
      return { name: c.name, ok: false, seconds: elapsed(t0), families: [] };
    } finally {
      clearTimeout(timer);
      this.shutdown.signal.removeEventListener('abort', onShutdown);
    }
  }
}

function elapsed(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
