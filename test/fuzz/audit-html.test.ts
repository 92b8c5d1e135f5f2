// The HTML renderer against hostile host text: every name, path, description, URL and error a
// host can put in the report, random or built from markup, must arrive as text. The page's
// elements are exactly the renderer's own, no attribute is an event handler, and each input is
// found in the page escaped.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { SupervisorFailure } from '../../src/sources/supervisor-error.js';
import { finishReport } from '../../src/report/finish-report.js';
import { escapeHtml } from '../../src/report/html-escape.js';
import { renderHtml } from '../../src/report/html.js';
import { REPORT_SCHEMA, type AuditReport } from '../../src/report/model.js';
import { fuzzParams } from '../helpers/fuzz.js';

const OWN_TAGS = new Set(
  'html head meta title style body header div h1 h2 h3 p main section article span dl dt dd table thead tbody tr th td svg rect line footer code'.split(' '),
);

const markup = fc.constantFrom('<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '"><b>', "' onmouseover='x", '&amp;', '</td></tr>', '<!--', ']]>', '\u0000', '\u2028', '<svg onload=1>');
const hostile = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ maxLength: 20 }), fc.array(fc.oneof(markup, fc.string({ maxLength: 4 })), { maxLength: 5 }).map((a) => a.join('')));

function report(t: {
  host: string;
  group: string;
  name: string;
  description: string;
  path: string;
  probe: string;
  url: string;
  error: string;
  failure: SupervisorFailure;
}): AuditReport {
  return {
    schema: REPORT_SCHEMA,
    generated_at: '2026-01-01T00:00:00.000Z',
    hostname: t.host,
    exporter_version: t.name,
    config_file: t.path,
    sample_seconds: 5,
    cpu_window_seconds: 5,
    status: 'healthy',
    storage: {
      paths: [{ name: 'logs', path: t.path, bytes: 2e9, files: 3, scan_errors: 0, files_modified: { [t.name]: 1 } }],
      databases: [{ database: t.name, path: t.path, bytes: 100, main_bytes: 100, wal_bytes: 7e7, ok: false, tables: 1, indexes: 0 }],
      databases_bytes: 100,
    },
    supervisor: { up: false, url: t.url, version: t.name, services_total: 1, services_running: 0, failure: t.failure, error: t.error },
    services: [
      { group: t.group, name: t.name, state: 'FATAL', cpu_percent: 95, memory_bytes: 2e9, processes: 1, uptime_seconds: 1, log_bytes: 10, tcp_connections: 0, description: t.description, restarts_in_sample: 5 },
    ],
    processes: { by_name: { [t.name]: 1 }, services_memory_bytes: 2e9, top_cpu: null },
    host: { memory: null, tcp: { [t.name]: 3 }, network_connections: 3 },
    health: { probes: [{ probe: t.probe, url: t.url, success: false, status_code: 500, duration_seconds: 0.1 }], critical_files: [{ path: t.path, present: false }] },
    recent_activity: { files_modified: [], service_uptime_avg_seconds: null },
    anomalies: [],
    collectors: [{ collector: t.name, success: false }],
  };
}

describe('fuzz: audit HTML', () => {
  it('keeps every host string as text', () => {
    fc.assert(
      fc.property(
        fc.record({
          host: hostile,
          group: hostile,
          name: hostile,
          description: hostile,
          path: hostile,
          probe: hostile,
          url: hostile,
          error: hostile,
          failure: fc.constantFrom<SupervisorFailure>('unreachable', 'auth', 'permission', 'timeout', 'protocol'),
        }),
        fc.boolean(),
        (t, live) => {
          const r = finishReport(report(t));
          const html = renderHtml(r, live ? { live: { refreshSeconds: 30, collectedAgoSeconds: 1 } } : {});
          const body = html.slice(html.indexOf('</style>'));
          for (const m of body.matchAll(/<\/?([a-zA-Z][\w-]*)/g)) assert.ok(OWN_TAGS.has((m[1] as string).toLowerCase()), `element <${m[1]}>`);
          // Attribute names outside the quoted values (a host's `"` is escaped, so it cannot close one).
          for (const tag of body.match(/<[a-zA-Z][^>]*>/g) ?? []) {
            assert.doesNotMatch(tag.replace(/"[^"]*"/g, '""'), /\son\w*\s*=|'/i, `attribute in ${tag}`);
          }
          assert.doesNotMatch(body, /<!--/);
          for (const s of [t.name, t.path, t.probe, t.host]) assert.ok(html.includes(escapeHtml(s)), `missing ${JSON.stringify(s)}`);
          // Every anomaly is on the page.
          assert.equal(body.split('<article class="anomaly').length - 1, r.anomalies.length);
        },
      ),
      fuzzParams(1500),
    );
  });
});
