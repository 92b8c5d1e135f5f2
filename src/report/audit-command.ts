// `hostaudit-exporter audit`: collects once with the exporter's own collectors (no HTTP
// server), with CPU as a rate between two supervisor readings --sample apart and the restarts
// the background poll saw in between, then writes the report (markdown, JSON or HTML),
// optionally compared with a baseline report. Exit code 0 when
// healthy, 1 when an anomaly at warning or above is found, 2 for bad input (thrown as
// ConfigError/UsageError and mapped in main.ts).
import os from 'node:os';
import type { AuditOptions } from '../cli.js';
import type { CollectContext, Collector } from '../collectors/collector.js';
import { createCollectors } from '../collectors/index.js';
import type { MetricFamily } from '../collectors/metric-family.js';
import { CollectorRunner } from '../collectors/run-collectors.js';
import type { Config } from '../config.js';
import { ExitCode, describeError } from '../errors.js';
import { redact, type Logger } from '../log.js';
import { exporterVersion } from '../version.js';
import { hasWarningOrAbove } from './anomalies.js';
import { loadBaseline } from './baseline.js';
import { buildReport } from './build-report.js';
import { finishReport } from './finish-report.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderMarkdown } from './markdown.js';
import type { AuditReport } from './model.js';
import { supervisorFailureOf } from './supervisor-failure-of.js';

/**
 * A collector with background work (the paths scanner) implements refresh(): do that work
 * once, now, and resolve when collect() returns its results. The audit awaits it instead of
 * starting the collector's interval, so a one-shot report never shows "not scanned yet".
 */
interface Refreshable {
  refresh(signal: AbortSignal): Promise<void>;
}

function isRefreshable(c: Collector): c is Collector & Refreshable {
  return typeof (c as Partial<Refreshable>).refresh === 'function';
}

/** Wraps a collector to note when its reading finished (the moment its CPU counters were read). */
class Timed implements Collector {
  readonly name: string;
  finishedAt = 0;
  constructor(private readonly inner: Collector) {
    this.name = inner.name;
  }
  async collect(ctx: CollectContext): Promise<MetricFamily[]> {
    const f = await this.inner.collect(ctx);
    this.finishedAt = performance.now();
    return f;
  }
}

function write(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
}

export async function runAuditCommand(opts: AuditOptions, config: Config, log: Logger): Promise<number> {
  // Bad input first: a broken baseline must not cost a sample window before it is reported.
  const baseline = opts.baselineFile !== undefined ? loadBaseline(opts.baselineFile) : undefined;

  const collectors = createCollectors({ config, log, procRoot: opts.procfs }, opts.disabledCollectors);
  const supervisor = collectors.find((c) => c.name === 'supervisor');
  const timedSupervisor = supervisor ? new Timed(supervisor) : undefined;
  const all = collectors.map((c) => (c === supervisor && timedSupervisor ? timedSupervisor : c));

  // Background work (directory scans) runs once, during the CPU sample window.
  const shutdown = new AbortController();
  const refreshing = Promise.all(
    collectors.filter(isRefreshable).map((c) =>
      c.refresh(shutdown.signal).catch((err: unknown) => log.warn('refresh failed', { collector: c.name, err: describeError(err) })),
    ),
  );

  try {
    let cpuBefore: MetricFamily[] | undefined;
    let t1 = performance.now();
    if (timedSupervisor) {
      cpuBefore = (await new CollectorRunner([timedSupervisor], config.collectorTimeoutMs, log).collect()).families;
      t1 = timedSupervisor.finishedAt || performance.now();
      // The background poll during the sample: a service that crashes and is restarted between
      // the two readings is counted (restarts_in_sample), not seen RUNNING both times.
      supervisor?.start?.();
    }
    await new Promise((r) => setTimeout(r, opts.sampleMs));
    await refreshing;
    const generatedAt = new Date();
    if (timedSupervisor) timedSupervisor.finishedAt = 0; // a failed second reading must not reuse the first's time
    const { families } = await new CollectorRunner(all, config.collectorTimeoutMs, log).collect();
    const t2 = timedSupervisor?.finishedAt || performance.now();

    const report: AuditReport = buildReport({
      config,
      families,
      cpuBefore,
      elapsedSeconds: (t2 - t1) / 1000,
      generatedAt,
      host: os.hostname(),
      version: exporterVersion(),
      sampleSeconds: opts.sampleMs / 1000,
      supervisorFailure: supervisor ? supervisorFailureOf(supervisor) : undefined,
    });
    finishReport(report, baseline && opts.baselineFile !== undefined ? { file: opts.baselineFile, doc: baseline } : undefined, config.thresholds);
    const render = opts.format === 'json' ? renderJson : opts.format === 'html' ? renderHtml : renderMarkdown;
    // redact(): whatever a source returned, a configured secret never reaches the report.
    await write(redact(render(report)));
    return hasWarningOrAbove(report.anomalies) ? ExitCode.anomaly : ExitCode.ok;
  } finally {
    shutdown.abort();
    await Promise.allSettled(collectors.map((c) => c.stop?.()));
  }
}
