// The `audit` command as a child process against a real supervisord, real files, a real HTTP
// server and real SQLite files: its JSON checked figure by figure against /metrics of an
// exporter watching the same setup; a hand-written baseline checked for its percentages;
// exit codes 0, 1 and 2; secrets never in the output.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { renderMarkdown } from '../src/report/markdown.js';
import type { AuditReport } from '../src/report/model.js';
import { Exporter, runCli } from './helpers/exporter.js';
import { find, value, type ParsedSample } from './helpers/metrics.js';
import { PYTHON, programs, sleep, Supervisord } from './helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

const SUPERVISOR_SECRET = 'sv-Pa55-audit';
const PROBE_SECRET = 'probe-Pa55-audit';
const MIN = 60_000;

function setMtime(file: string, agoMs: number): void {
  const t = (Date.now() - agoMs) / 1000;
  utimesSync(file, t, t);
}

function parseReport(stdout: string): AuditReport {
  return JSON.parse(stdout) as AuditReport;
}

function cpuSeconds(m: ParsedSample[], group: string, name: string): number {
  return find(m, 'hostaudit_service_cpu_seconds_total', { group, name }).reduce((a, s) => a + s.value, 0);
}

describe('audit command', () => {
  let dir: string;
  let srv: string;
  let sv: Supervisord;
  let web: http.Server;
  let webUrl: string;
  let procName: string;
  let config: Record<string, unknown>;
  let configFile: string;
  let missingFile: string;
  // The bad-input runs need no sample window and no supervisord state: started in before()
  // so they overlap the other tests instead of adding to the file's time.
  let exit2Runs: Promise<Array<{ code: number | null; stdout: string; stderr: string }>>;
  let cases: Array<[string, RegExp]>;

  const writeConfig = (name: string, cfg: unknown): string => {
    const f = path.join(dir, name);
    writeFileSync(f, stringify(cfg));
    return f;
  };

  before(async () => {
    dir = makeTmpDir('hostaudit-audit-');
    srv = path.join(dir, 'srv');
    // logs: 14 files written within 10 minutes, 22 within the hour, more older
    const logs = path.join(srv, 'logs');
    mkdirSync(logs, { recursive: true });
    for (let i = 0; i < 30; i++) {
      const f = path.join(logs, `app-${i}.log`);
      writeFileSync(f, 'x'.repeat(1000 + i * 37));
      setMtime(f, i < 14 ? 2 * MIN : i < 22 ? 30 * MIN : 3 * 60 * MIN);
    }
    writeFileSync(path.join(logs, 'big.log'), Buffer.alloc(1_000_000, 97));
    setMtime(path.join(logs, 'big.log'), 5 * 60 * MIN);
    const data = path.join(srv, 'data');
    mkdirSync(path.join(data, 'prod'), { recursive: true });
    for (const [f, rows] of [
      ['btc_price_history.db', 400],
      ['trades.db', 20],
      ['prod/fills.db', 50],
    ] as const) {
      execFileSync('sqlite3', [
        path.join(data, f),
        `CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t(v); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<${rows}) INSERT INTO t(v) SELECT hex(randomblob(64)) FROM c;`,
      ]);
    }
    const conf = path.join(srv, 'config');
    mkdirSync(conf);
    writeFileSync(path.join(conf, 'production.yaml'), 'mode: live\n');
    missingFile = path.join(conf, 'secrets.yaml');

    // a web interface that wants basic auth
    web = http.createServer((req, res) => {
      const ok = req.headers.authorization === `Basic ${Buffer.from(`web:${PROBE_SECRET}`).toString('base64')}`;
      res.statusCode = ok ? 200 : 401;
      res.end(ok ? 'ok' : 'no');
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    webUrl = `http://web:${PROBE_SECRET}@127.0.0.1:${(web.address() as AddressInfo).port}/health`;

    // programs run under a name only this test uses, for an exact process count
    procName = `audit${process.pid}py`;
    const py = path.join(dir, procName);
    symlinkSync(PYTHON, py);
    const fixtures = path.dirname(programs.sleep().split(' ')[1] as string);
    sv = await Supervisord.start({
      programs: [
        { name: 'kalshi_account_sync', command: programs.burn(0.6) },
        { name: 'main_app', command: programs.holdMemory(48) },
        { name: 'kalshi_api_watchdog', command: `${py} ${fixtures}/sleep.py` },
        { name: 'worker', command: `${py} ${fixtures}/sleep.py`, options: { numprocs: '2' } },
      ],
      groups: { kalshi: ['kalshi_account_sync'] },
      unixAuth: { username: 'auditor', password: SUPERVISOR_SECRET },
    });
    const passFile = path.join(dir, 'supervisor.pass');
    writeFileSync(passFile, `${SUPERVISOR_SECRET}\n`);
    await sv.waitFor((s) => [...s.values()].filter((x) => x.state === 'RUNNING').length === 5);
    await sleep(1200); // main_app has touched its pages

    config = {
      supervisor: { url: sv.unixUrl, username: 'auditor', password_file: passFile },
      paths: [
        { name: 'logs', path: logs, modified_within: ['10m', '1h'] },
        { name: 'data', path: data },
        { name: 'system', path: srv },
      ],
      databases: [path.join(data, '**', '*.db')],
      probes: [{ name: 'web', url: webUrl, timeout: '2s' }],
      critical_files: [path.join(conf, 'production.yaml')],
      process_names: [procName],
    };
    configFile = writeConfig('hostaudit.yml', config);

    const notJson = path.join(dir, 'not.json');
    writeFileSync(notJson, '{"schema": "hostaudit-audit/1",');
    const foreign = path.join(dir, 'foreign.json');
    writeFileSync(foreign, JSON.stringify({ post_optimization_audit: { storage_optimization: {} } }));
    const wrongType = path.join(dir, 'wrong.json');
    writeFileSync(wrongType, JSON.stringify({ schema: 'hostaudit-audit/1', storage: { paths: [{ name: 'logs', bytes: '2.5GB' }] } }));
    cases = [
      [path.join(dir, 'absent.json'), /absent\.json: cannot read baseline file: ENOENT/],
      [notJson, /not\.json: baseline is not valid JSON/],
      [foreign, /foreign\.json: schema: must be "hostaudit-audit\/1"/],
      [wrongType, /wrong\.json: storage\.paths\[0\]\.bytes: must be a number/],
    ];
    exit2Runs = Promise.all([
      runCli(['audit', '--format=xml']),
      ...cases.map(([f]) => runCli(['audit', `--config.file=${configFile}`, `--baseline=${f}`, '--sample=1s'])),
    ]);
  });

  after(async () => {
    await sv?.cleanup();
    web?.closeAllConnections();
    await new Promise((r) => web?.close(r));
    if (dir) removeTmpDir(dir);
  });

  it('reports every figure as /metrics does for the same setup', async () => {
    const exp = await Exporter.start({ config });
    try {
      // The exporter's path scan runs in the background: wait for it.
      let m = await exp.scrape();
      for (let i = 0; i < 100 && find(m, 'hostaudit_path_bytes').length < 3; i++) {
        await sleep(100);
        m = await exp.scrape();
      }
      // Scrape once a second while the audit runs, to take the exporter's CPU rate over the
      // same window as the audit's (its start-up time under load is unknown beforehand).
      const scrapes: Array<{ at: number; m: ParsedSample[] }> = [];
      let auditDone = false;
      const auditRun = runCli(['audit', `--config.file=${configFile}`, '--format=json', '--sample=3s']).finally(() => {
        auditDone = true;
      });
      while (!auditDone) {
        scrapes.push({ at: Date.now(), m: await exp.scrape() });
        await sleep(1000);
      }
      const run = await auditRun;
      assert.equal(run.stderr.includes('internal error'), false, run.stderr);
      const r = parseReport(run.stdout);
      const windowEnd = Date.parse(r.generated_at);
      assert.ok(r.cpu_window_seconds !== null && r.cpu_window_seconds > 2.9, `window ${r.cpu_window_seconds}`);
      const windowStart = windowEnd - r.cpu_window_seconds * 1000;
      const before = [...scrapes].reverse().find((x) => x.at <= windowStart) ?? scrapes[0];
      const after = scrapes.find((x) => x.at >= windowEnd) ?? scrapes[scrapes.length - 1];
      assert.ok(before && after && after.at > before.at, 'scrapes around the audit window');
      const [m0, m1, dt] = [before.m, after.m, (after.at - before.at) / 1000];
      m = m1;

      assert.equal(r.schema, 'hostaudit-audit/1');
      assert.equal(r.sample_seconds, 3);
      // supervisor and services
      assert.equal(r.supervisor.up, value(m, 'hostaudit_supervisor_up') === 1);
      assert.equal(r.supervisor.up, true);
      assert.equal(r.supervisor.version, find(m, 'hostaudit_supervisor_info')[0]?.labels.version);
      const infos = find(m, 'hostaudit_service_info');
      assert.equal(r.supervisor.services_total, infos.length);
      assert.equal(r.supervisor.services_total, 5);
      assert.equal(r.supervisor.services_running, find(m, 'hostaudit_service_up').filter((s) => s.value === 1).length);
      assert.deepEqual(
        r.services.map((s) => `${s.group}:${s.name}`).sort(),
        infos.map((s) => `${s.labels.group}:${s.labels.name}`).sort(),
      );
      for (const s of r.services) {
        const l = { group: s.group, name: s.name };
        const state = find(m, 'hostaudit_service_state', l).find((x) => x.value === 1)?.labels.state;
        assert.equal(s.state, state, `${s.name} state`);
        assert.equal(s.processes, value(m, 'hostaudit_service_processes', l), `${s.name} processes`);
        assert.equal(s.log_bytes, find(m, 'hostaudit_service_log_bytes', l).reduce((a, x) => a + x.value, 0), `${s.name} logs`);
        const rss = value(m, 'hostaudit_service_resident_memory_bytes', l) as number;
        assert.ok(Math.abs((s.memory_bytes as number) - rss) <= 0.05 * rss + 512 * 1024, `${s.name} memory ${s.memory_bytes} vs ${rss}`);
        const start = value(m, 'hostaudit_service_start_time_seconds', l) as number;
        const uptime = Date.parse(r.generated_at) / 1000 - start;
        assert.ok(Math.abs((s.uptime_seconds as number) - uptime) <= 1, `${s.name} uptime`);
      }
      const main = r.services.find((s) => s.name === 'main_app');
      assert.ok((main?.memory_bytes ?? 0) > 48 * 2 ** 20, 'main_app holds 48 MiB');
      assert.equal(r.processes.services_memory_bytes, r.services.reduce((a, s) => a + (s.memory_bytes ?? 0), 0));
      // CPU: the audit's rate over its window against the rate between two scrapes over about
      // the same window; both see the burner at its share of a core, give or take the other
      // tests running on this machine.
      const burner = r.services.find((s) => s.name === 'kalshi_account_sync');
      const scraped = ((cpuSeconds(m1, 'kalshi', 'kalshi_account_sync') - cpuSeconds(m0, 'kalshi', 'kalshi_account_sync')) / dt) * 100;
      assert.ok(burner?.cpu_percent !== null && burner?.cpu_percent !== undefined);
      assert.ok(Math.abs(burner.cpu_percent - scraped) < 20, `audit ${burner.cpu_percent}% vs scrapes ${scraped.toFixed(1)}%`);
      const idle = r.services.find((s) => s.name === 'kalshi_api_watchdog');
      assert.ok((idle?.cpu_percent ?? 99) < 5, `idle service at ${idle?.cpu_percent}%`);
      assert.ok(burner.cpu_percent > (idle?.cpu_percent ?? 0) + 2, `burner at ${burner.cpu_percent}%, idle at ${idle?.cpu_percent}%`);
      assert.deepEqual(r.processes.top_cpu, { group: 'kalshi', name: 'kalshi_account_sync', cpu_percent: burner.cpu_percent });

      // storage
      for (const p of r.storage.paths) {
        const l = { name: p.name };
        assert.equal(p.bytes, value(m, 'hostaudit_path_bytes', l), `${p.name} bytes`);
        assert.equal(p.files, value(m, 'hostaudit_path_files', l), `${p.name} files`);
        assert.equal(p.scan_errors, value(m, 'hostaudit_path_scan_errors', l), `${p.name} errors`);
      }
      const logs = r.storage.paths.find((p) => p.name === 'logs');
      assert.deepEqual(logs?.files_modified, { '10m': 14, '1h': 22 });
      assert.equal(value(m, 'hostaudit_path_files_modified', { name: 'logs', within: '10m' }), 14);
      assert.deepEqual(r.recent_activity.files_modified.map((x) => [x.name, x.within, x.files]), [
        ['logs', '10m', 14],
        ['logs', '1h', 22],
      ]);
      const dbPaths = [...new Set(find(m, 'hostaudit_sqlite_bytes').map((s) => s.labels.path))].sort();
      assert.deepEqual(r.storage.databases.map((d) => d.path), dbPaths);
      for (const d of r.storage.databases) {
        const l = { path: d.path };
        assert.equal(d.bytes, find(m, 'hostaudit_sqlite_bytes', l).reduce((a, s) => a + s.value, 0), `${d.database} bytes`);
        assert.equal(d.ok, value(m, 'hostaudit_sqlite_ok', l) === undefined ? null : value(m, 'hostaudit_sqlite_ok', l) === 1);
        assert.equal(d.tables, value(m, 'hostaudit_sqlite_tables', l) ?? null);
      }
      assert.equal(r.storage.databases_bytes, find(m, 'hostaudit_sqlite_bytes').reduce((a, s) => a + s.value, 0));

      // health
      assert.deepEqual(
        r.health.probes.map((p) => [p.probe, p.url, p.success, p.status_code]),
        find(m, 'hostaudit_probe_success').map((s) => [s.labels.probe, s.labels.url, s.value === 1, value(m, 'hostaudit_probe_status_code', { probe: s.labels.probe as string })]),
      );
      assert.equal(r.health.probes[0]?.success, true);
      assert.deepEqual(
        r.health.critical_files,
        find(m, 'hostaudit_file_present').map((s) => ({ path: s.labels.path, present: s.value === 1 })),
      );
      assert.deepEqual(r.processes.by_name, { [procName]: value(m, 'hostaudit_host_processes', { name: procName }) });
      assert.equal(r.processes.by_name[procName], 3);
      assert.equal(r.host.memory?.total_bytes, value(m, 'hostaudit_host_memory_bytes', { kind: 'total' }));
      // Host TCP sockets move with every other test on the machine: close, not equal.
      const est = value(m, 'hostaudit_host_tcp_connections', { state: 'established' }) as number;
      assert.ok(Math.abs((r.host.tcp.established ?? -1000) - est) <= 40, `established ${r.host.tcp.established} vs ${est}`);
      assert.equal(
        r.host.network_connections,
        Object.entries(r.host.tcp).filter(([s]) => s !== 'listen').reduce((a, [, n]) => a + n, 0),
      );
      assert.deepEqual(
        r.collectors.map((c) => [c.collector, c.success]).sort(),
        find(m, 'hostaudit_collector_success').map((s) => [s.labels.collector, s.value === 1]).sort(),
      );

      // anomalies follow from the figures
      const hot = r.services.filter((s) => (s.cpu_percent ?? 0) > 40).map((s) => (s.group === s.name ? s.name : `${s.group}:${s.name}`));
      const cpuAnomalies = r.anomalies.filter((a) => a.threshold === 'serviceHighCpu' || a.threshold === 'serviceCpuSaturated');
      assert.deepEqual(cpuAnomalies.map((a) => a.subject), hot);
      assert.equal(run.code, r.anomalies.some((a) => a.severity !== 'info') ? 1 : 0);
      assert.equal(r.status, r.anomalies.length === 0 ? 'healthy' : r.anomalies[0]?.severity);

      // no secret anywhere
      for (const out of [run.stdout, run.stderr, exp.output]) {
        assert.ok(!out.includes(SUPERVISOR_SECRET) && !out.includes(PROBE_SECRET), 'secret leaked');
      }
    } finally {
      await exp.cleanup();
    }
  });

  it('writes the markdown report in the audit shape, exit 1 when a critical file is missing', async () => {
    const cfg = writeConfig('missing.yml', { ...config, critical_files: [...(config.critical_files as string[]), missingFile] });
    const run = await runCli(['audit', `--config.file=${cfg}`, '--sample=1s']);
    assert.equal(run.code, 1, run.stderr);
    const md = run.stdout;
    assert.match(md, /^# SYSTEM AUDIT/);
    assert.match(md, /\| \*\*Supervisor Services\*\* \| ✅ All Running \| 5\/5 services active \|/);
    assert.match(md, /\| \*\*Web Interface \(web\)\*\* \| ✅ Healthy \| HTTP 200 in [\d.]+s: http:\/\/127\.0\.0\.1:\d+\/health \|/);
    assert.match(md, /\| \*\*Critical Files\*\* \| ❌ 1 missing \| missing or unreadable: .*secrets\.yaml \|/);
    assert.match(md, /- \*\*logs files modified \(10m\)\*\*: 14 files/);
    assert.match(md, /- \*\*logs files modified \(1h\)\*\*: 22 files/);
    assert.match(md, /Total System: [\d.]+[KM]B\n├── logs: [\d.]+[KM]B\n├── data: [\d.]+[KM]B\n└── Other: [\d.]+[KM]?B/);
    assert.match(md, /### \d+\. ❌ Critical file .*secrets\.yaml is missing/);
    assert.match(md, /- \*\*Recommendation\*\*: Restore .*secrets\.yaml from version control or a backup/);
    assert.match(md, /\*\*Current Status\*\*: ❌ \*\*CRITICAL\*\*/);
    const summary = JSON.parse(/```json\n([\s\S]*?)\n```/.exec(md)?.[1] ?? 'null') as { audit: { system_health: Record<string, unknown> } };
    assert.equal(summary.audit.system_health.services_running, '5/5');
    assert.equal(summary.audit.system_health.critical_files, '1_missing');
    assert.equal(summary.audit.system_health.web_interface, 'healthy');
    assert.ok(!md.includes(SUPERVISOR_SECRET) && !md.includes(PROBE_SECRET));
    assert.ok(!run.stderr.includes(SUPERVISOR_SECRET));
  });

  it('compares with a hand-written baseline: Baseline / Now / Change with the right percentages', async () => {
    // hostaudit_path_bytes is `du -sb` (docs/metrics.md); the files do not change during the test.
    const du = (d: string): number => Number(execFileSync('du', ['-sb', d], { encoding: 'utf8' }).split('\t')[0]);
    const logsNow = du(path.join(srv, 'logs'));
    const dataNow = du(path.join(srv, 'data'));
    const baselineFile = path.join(dir, 'baseline.json');
    writeFileSync(
      baselineFile,
      JSON.stringify({
        schema: 'hostaudit-audit/1',
        // a minute ago, and 1 MB less in logs: +1 MB/min would predict far past 2.5 GB within 7
        // days, but a baseline under an hour old is compared, not extrapolated from
        generated_at: new Date(Date.now() - MIN).toISOString(),
        storage: {
          paths: [
            { name: 'logs', bytes: logsNow - 1_000_000 },
            { name: 'data', bytes: dataNow * 2 }, // now half: 50% reduction
            { name: 'old_cache', bytes: 5e6 }, // gone since
          ],
        },
        supervisor: { services_total: 4, services_running: 4 }, // now 5: +25%
        processes: { by_name: { [procName]: 2 } }, // now 3: +50%
        services: [{ group: 'main_app', name: 'main_app', cpu_percent: 10, memory_bytes: 25 * 2 ** 20 }],
      }),
    );
    const run = await runCli(['audit', `--config.file=${configFile}`, '--format=json', '--sample=1s', `--baseline=${baselineFile}`]);
    const r = parseReport(run.stdout);
    const rows = r.baseline?.rows ?? [];
    const row = (section: string, component: string, unit?: string) => rows.find((x) => x.section === section && x.component === component && (!unit || x.unit === unit));
    const logsRow = row('storage', 'logs');
    assert.equal(logsRow?.baseline, logsNow - 1_000_000);
    assert.equal(logsRow?.now, logsNow);
    assert.equal(logsRow?.change_percent, Math.round((1_000_000 / (logsNow - 1_000_000)) * 1000) / 10);
    assert.equal(row('storage', 'data')?.change_percent, -50);
    assert.deepEqual([row('storage', 'old_cache')?.baseline, row('storage', 'old_cache')?.now], [5e6, null]);
    assert.equal(row('processes', 'supervisor services')?.change_percent, 25);
    assert.equal(row('processes', `${procName} processes`)?.change_percent, 50);
    const mem = row('services', 'main_app', 'bytes');
    const mainNow = r.services.find((s) => s.name === 'main_app')?.memory_bytes as number;
    assert.equal(mem?.change_percent, Math.round(((mainNow - 25 * 2 ** 20) / (25 * 2 ** 20)) * 1000) / 10);
    assert.ok((mem?.change_percent ?? 0) > 80, 'main_app holds about twice the baseline');
    // no growth prediction from a minute-old baseline, and the report says why
    assert.equal(r.anomalies.some((a) => a.threshold === 'logsGrowth'), false, JSON.stringify(r.anomalies));
    assert.equal(r.baseline?.growth_extrapolated, false);
    assert.match(r.baseline?.growth_note ?? '', /the baseline is (1m|\d+s) old/);
    assert.equal(run.code, r.anomalies.some((a) => a.severity !== 'info') ? 1 : 0);

    // The markdown of the same report (what the command prints without --format=json).
    const md = renderMarkdown(r);
    assert.match(md, /^# COMPARATIVE SYSTEM AUDIT/);
    assert.match(md, /\| Component \| Baseline \| Now \| Change \|/);
    assert.match(md, /\| \*\*data\*\* \| [\d.]+KB \| [\d.]+KB \| \*\*50% reduction\*\* \|/);
    assert.match(md, /\| \*\*supervisor services\*\* \| 4 \| 5 \| \+25% \|/);
    assert.match(md, new RegExp(`\\| \\*\\*${procName} processes\\*\\* \\| 2 \\| 3 \\| \\+50% \\|`));
    assert.match(md, /\| \*\*old_cache\*\* \| 5MB \| n\/a \| gone \|/);
    assert.match(md, /\| Service \| State \| CPU baseline \| CPU now \| CPU change \| Memory baseline \| Memory now \| Memory change \|/);
  });

  it('exits 0 for a healthy host', async () => {
    sv.ctl('stop', 'kalshi:kalshi_account_sync');
    try {
      await sv.waitFor((s) => s.get('kalshi:kalshi_account_sync')?.state === 'STOPPED');
      // The test machine's own disk is not this host's to judge: a nearly full /tmp would be a
      // real anomaly (HostAuditDiskAlmostFull), so the filesystem collector is off here.
      const run = await runCli(['audit', `--config.file=${configFile}`, '--format=json', '--sample=1s', '--no-collector.filesystem']);
      const r = parseReport(run.stdout);
      assert.deepEqual(r.anomalies, []);
      assert.equal(r.status, 'healthy');
      assert.equal(r.supervisor.services_running, 4);
      assert.equal(run.code, 0, run.stderr);
    } finally {
      sv.ctl('start', 'kalshi:kalshi_account_sync');
    }
  });

  it('exits 2 with one line for a missing, malformed or foreign baseline', async () => {
    const [badFlag, ...runs] = await exit2Runs;
    assert.equal(runs.length, 4);
    runs.forEach((run, i) => {
      const [, re] = cases[i] as [string, RegExp];
      assert.equal(run.code, 2, run.stderr);
      assert.equal(run.stdout, '');
      const lines = run.stderr.trim().split('\n');
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0] as string, /^hostaudit-exporter: error: /);
      assert.match(lines[0] as string, re);
    });
    assert.equal(badFlag?.code, 2);
    assert.match(badFlag?.stderr ?? '', /--format: must be one of markdown, json, html/);
  });
});
