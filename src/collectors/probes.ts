// The "probes" collector: one HTTP(S) health check per configured probe, all concurrently.
// A failed probe is a reading (success 0), not a failed collector; its reason goes to the
// debug log, where an operator who set --log.level=debug looks for it.
import type { ProbeConfig } from '../config.js';
import { probe, type ProbeResult } from '../sources/probe.js';
import { tcpProbe } from '../sources/tcp-probe.js';
import { safeUrl } from '../sources/supervisor.js';
import type { CollectContext, Collector, CollectorDeps } from './collector.js';
import { FamilyBuilder, type MetricFamily } from './metric-family.js';

/** Room left inside the collector's deadline for building families after the slowest probe. */
const DEADLINE_MARGIN_MS = 250;

export interface ProbeReading extends ProbeResult {
  probe: string;
  /** The URL without credentials: what the `url` label and the report show. */
  url: string;
}

export class ProbesCollector implements Collector {
  readonly name = 'probes';

  constructor(
    private readonly probes: readonly ProbeConfig[],
    private readonly collectorTimeoutMs: number,
  ) {}

  /**
   * Runs every probe. A probe's timeout is capped just under the collector's deadline, so a
   * probe configured slower than the scrape still reports success 0 instead of taking the
   * whole collector (and every other probe's series) down with it.
   */
  async read(ctx: CollectContext): Promise<ProbeReading[]> {
    const cap = Math.max(1, this.collectorTimeoutMs - DEADLINE_MARGIN_MS);
    return Promise.all(
      this.probes.map(async (p) => {
        const timeoutMs = Math.min(p.timeoutMs, cap);
        const r = p.url.startsWith('tcp://')
          ? { ...(await tcpProbe(new URL(p.url), timeoutMs, ctx.signal)), statusCode: 0, redirects: 0 }
          : await probe({ url: p.url, timeoutMs, insecureSkipVerify: p.insecureSkipVerify, expectBody: p.expectBody }, ctx.signal);
        const url = safeUrl(p.url);
        if (!r.success) {
          ctx.log.debug('probe failed', { probe: p.name, url, status_code: r.statusCode, reason: r.reason });
        }
        return { ...r, probe: p.name, url };
      }),
    );
  }

  async collect(ctx: CollectContext): Promise<MetricFamily[]> {
    const readings = await this.read(ctx);
    const b = new FamilyBuilder();
    const labels = ['probe', 'url'] as const;
    const success = b.gauge(
      'hostaudit_probe_success',
      'Whether the probe got a 2xx answer (whose body matches expect_body, when set) or, for tcp://, a connection, within its timeout (1) or not (0).',
      labels,
    );
    const duration = b.gauge('hostaudit_probe_duration_seconds', 'How long the probe took, redirects included.', labels);
    const status = b.gauge('hostaudit_probe_status_code', 'HTTP status of the last answer; 0 when nothing answered.', labels);
    const certExpiry = b.gauge(
      'hostaudit_probe_tls_cert_expiry_timestamp_seconds',
      'The earliest notAfter (unix time) in the certificate chain the HTTPS server presented.',
      labels,
    );
    for (const r of readings) {
      const l = { probe: r.probe, url: r.url };
      success(l, r.success ? 1 : 0);
      duration(l, r.durationSeconds);
      status(l, r.statusCode);
      if (r.certExpirySeconds !== undefined) certExpiry(l, r.certExpirySeconds);
    }
    return b.build();
  }
}

export function createProbesCollector(deps: CollectorDeps): Collector | undefined {
  if (deps.config.probes.length === 0) return undefined;
  return new ProbesCollector(deps.config.probes, deps.config.collectorTimeoutMs);
}
