// GET /audit: the live audit report as HTML, built from the collections the exporter already
// made. CPU and restarts come from the counters of the runner's last two collections; a visit
// runs a collection only when the last one is older than FRESH_MS, and then the runner's
// coalescing shares it with any scrape in flight. So N visits cost at most N collections, and
// visits while Prometheus scrapes cost none.
import os from 'node:os';
import type { Request, Response } from 'express';
import type { CollectorRunner } from '../collectors/run-collectors.js';
import type { Config } from '../config.js';
import { describeError } from '../errors.js';
import { redact, type Logger } from '../log.js';
import { buildReport } from '../report/build-report.js';
import { finishReport } from '../report/finish-report.js';
import { renderHtml } from '../report/html.js';
import type { AuditReport } from '../report/model.js';
import { supervisorFailureOf } from '../report/supervisor-failure-of.js';

/** A collection younger than this is served as it is. */
const FRESH_MS = 10_000;
/** The page reloads itself this often (a meta refresh: no script). */
const REFRESH_SECONDS = 30;

export class LiveAudit {
  constructor(
    /** The runner and config in force (a reload swaps both). */
    private readonly source: { readonly current: CollectorRunner; readonly config: Config },
    private readonly version: string,
    private readonly hostname = os.hostname(),
    private readonly freshMs = FRESH_MS,
  ) {}

  /** The report of the last collection (one more when it is stale), and how old that collection is. */
  async report(): Promise<{ report: AuditReport; collectedAgoSeconds: number }> {
    const runner = this.source.current;
    const config = this.source.config;
    const recent = runner.recent;
    if (recent.ageMs() > this.freshMs) await runner.collect();
    const last = recent.last;
    if (!last) throw new Error('no collection to report from');
    const prev = recent.previous;
    const now = performance.now();
    const elapsed = prev ? (last.finishedAt - prev.finishedAt) / 1000 : 0;
    const supervisor = runner.collectors.find((c) => c.name === 'supervisor');
    const report = buildReport({
      config,
      families: last.result.families,
      cpuBefore: prev?.result.families,
      elapsedSeconds: elapsed,
      generatedAt: new Date(Date.now() - (now - last.finishedAt)),
      host: this.hostname,
      version: this.version,
      sampleSeconds: Math.round(elapsed * 100) / 100,
      supervisorFailure: supervisor ? supervisorFailureOf(supervisor) : undefined,
    });
    return { report: finishReport(report, undefined, config.thresholds), collectedAgoSeconds: (now - last.finishedAt) / 1000 };
  }

  async page(): Promise<string> {
    const { report, collectedAgoSeconds } = await this.report();
    // redact(): whatever a source returned, a configured secret never reaches the page.
    return redact(renderHtml(report, { live: { refreshSeconds: REFRESH_SECONDS, collectedAgoSeconds } }));
  }

  handler(log: Logger): (req: Request, res: Response) => Promise<void> {
    return async (_req, res) => {
      try {
        const html = await this.page();
        res
          .status(200)
          .set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
          .set('Cache-Control', 'no-store')
          .type('html')
          .send(html);
      } catch (err) {
        log.error('audit page failed', { err: describeError(err) });
        res.status(500).type('text/plain').send('error building the audit report\n');
      }
    };
  }
}
