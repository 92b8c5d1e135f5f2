// Makes the screenshots of GET /audit in docs/images/: a demo host (a real supervisord with
// services in groups, a web server with /health, logs, SQLite databases, config files) served by
// the exporter in this process, loaded in Debian's Chromium. Once healthy, once with anomalies (a
// crash loop, a FATAL program, a busy service, a failing probe, a missing config file).
//   node --import tsx test/tools/audit-screenshots.ts docs/images [MARKDOWN_FILE]
// With MARKDOWN_FILE, the anomalies host's report is also written there as markdown (the
// example in docs/audit-report.md).
import { execFileSync } from 'node:child_process';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createCollectors } from '../../src/collectors/index.js';
import { CollectorRunner } from '../../src/collectors/run-collectors.js';
import { parseConfig } from '../../src/config.js';
import { LiveAudit } from '../../src/http/audit-page.js';
import { SelfMetrics } from '../../src/http/exposition.js';
import { createApp, setReady } from '../../src/http/server.js';
import { silentLogger } from '../../src/log.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { exporterVersion } from '../../src/version.js';
import { launchChromium } from '../helpers/chromium.js';
import { programs, sleep, Supervisord, type ProgramSpec } from '../helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from '../helpers/tmp.js';

const out = path.resolve(process.argv[2] ?? 'docs/images');
const markdownFile = process.argv[3];
const MIN = 60_000;

function demoFiles(root: string): { logs: string; data: string; conf: string } {
  const logs = path.join(root, 'logs');
  const data = path.join(root, 'data');
  const conf = path.join(root, 'config');
  for (const d of [logs, data, conf]) mkdirSync(d, { recursive: true });
  for (let i = 0; i < 40; i++) {
    const f = path.join(logs, `app-${i}.log`);
    writeFileSync(f, 'x'.repeat(20_000 + i * 3000));
    const t = (Date.now() - (i < 12 ? 3 * MIN : i < 25 ? 40 * MIN : 5 * 60 * MIN)) / 1000;
    utimesSync(f, t, t);
  }
  for (const [name, rows] of [
    ['orders.sqlite', 4000],
    ['sessions.sqlite', 300],
    ['catalog.sqlite', 1500],
  ] as const) {
    execFileSync('sqlite3', [
      path.join(data, name),
      `PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t(v); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<${rows}) INSERT INTO t(v) SELECT hex(randomblob(96)) FROM c;`,
    ]);
  }
  writeFileSync(path.join(conf, 'app.yaml'), 'mode: production\n');
  writeFileSync(path.join(conf, 'payments.yaml'), 'provider: demo\n');
  return { logs, data, conf };
}

async function shoot(name: string, extra: ProgramSpec[], opts: { failHealth: boolean; missingFile: boolean; markdown?: string }): Promise<void> {
  const dir = makeTmpDir('hostaudit-shots-');
  const files = demoFiles(path.join(dir, 'srv'));
  const web = http.createServer((_req, res) => {
    res.statusCode = opts.failHealth ? 503 : 200;
    res.end(opts.failHealth ? 'unavailable' : 'ok');
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  const sv = await Supervisord.start({
    programs: [
      { name: 'frontend', command: programs.holdMemory(60) },
      { name: 'api', command: programs.burn(0.12) },
      { name: 'mailer', command: programs.sleep() },
      { name: 'thumbnailer', command: programs.holdMemory(30) },
      { name: 'scheduler', command: programs.sleep() },
      { name: 'ingest', command: programs.sleep(), options: { numprocs: '2' } },
      ...extra,
    ],
    groups: { web: ['frontend', 'api'], jobs: ['mailer', 'thumbnailer'] },
  });
  const config = parseConfig(
    {
      supervisor: { url: sv.unixUrl },
      paths: [
        { name: 'logs', path: files.logs, modified_within: ['10m', '1h'] },
        { name: 'data', path: files.data },
        { name: 'system', path: path.dirname(files.logs) },
      ],
      databases: [path.join(files.data, '*.sqlite')],
      probes: [{ name: 'web', url: `http://127.0.0.1:${(web.address() as AddressInfo).port}/health` }],
      critical_files: [path.join(files.conf, 'app.yaml'), path.join(files.conf, opts.missingFile ? 'secrets.yaml' : 'payments.yaml')],
    },
    path.join(dir, 'hostaudit.yml'),
    dir,
    {},
  );
  const runner = new CollectorRunner(createCollectors({ config, log: silentLogger }), config.collectorTimeoutMs, silentLogger);
  const version = exporterVersion();
  const audit = new LiveAudit({ current: runner, config }, version, 'demo-host');
  const app = createApp({ runner, self: new SelfMetrics(version), log: silentLogger, telemetryPath: '/metrics', version, audit });
  setReady(app, true);
  runner.start();
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await launchChromium();
  try {
    await sleep(4000); // services settle, the path scan finishes
    await fetch(`${origin}/metrics`);
    await sleep(5000); // the CPU window, as between two scrapes
    await fetch(`${origin}/metrics`);
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${origin}/audit`);
    await page.screenshot({ path: path.join(out, name), fullPage: true });
    await context.close();
    console.log(`wrote ${path.join(out, name)}`);
    if (opts.markdown) {
      writeFileSync(opts.markdown, renderMarkdown((await audit.report()).report));
      console.log(`wrote ${opts.markdown}`);
    }
  } finally {
    await browser.close();
    server.closeAllConnections();
    server.close();
    await runner.stop();
    await sv.cleanup();
    web.close();
    removeTmpDir(dir);
  }
}

mkdirSync(out, { recursive: true });
await shoot('audit-healthy.png', [], { failHealth: false, missingFile: false });
await shoot(
  'audit-anomalies.png',
  [
    { name: 'exporter_sync', command: programs.exitAfter(0.4, 1), options: { startsecs: '0', autorestart: 'true' } },
    { name: 'invoicer', command: programs.exitAfter(0, 2), options: { startsecs: '1', startretries: '0' } },
    { name: 'search_indexer', command: programs.burn(0.95, 0.95) },
  ],
  { failHealth: true, missingFile: true, ...(markdownFile ? { markdown: markdownFile } : {}) },
);
