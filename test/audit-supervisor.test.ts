// The `audit` command against a real supervisord that runs a crash-looping program (it is
// RUNNING at almost any moment, between crashes), a FATAL one and ordinary services in groups:
// the report's words and JSON say what happened during the sample. Each way supervisord can
// fail to answer (wrong password, a socket the user may not open, nothing there, a server
// that is not supervisord, one that never answers) is named as such, with its own remedy.
// And no generated report carries the original audit's names or figures.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { AuditReport } from '../src/report/model.js';
import { exporterArgv, runCli } from './helpers/exporter.js';
import { originalHostWordsIn } from './helpers/original-host.js';
import { programs, Supervisord } from './helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';
import { unprivileged } from './helpers/unprivileged.js';

const SECRET = 'sv-Pa55-restarts';

/** What --format=json prints: the model plus its summary. */
type JsonReport = AuditReport & {
  summary: { audit: { services: Record<string, { restarts_in_sample: number | null }>; system_health: Record<string, unknown> } };
};

describe('audit: what happened during the sample', () => {
  let dir: string;
  let sv: Supervisord;
  let config: Record<string, unknown>;
  let configFile: string;

  before(async () => {
    dir = makeTmpDir('hostaudit-audit-sv-');
    sv = await Supervisord.start({
      programs: [
        // Exits after 0.3 s and is restarted at once: RUNNING whenever supervisord is asked.
        { name: 'crasher', command: programs.exitAfter(0.3, 1), options: { startsecs: '0', autorestart: 'true' } },
        // Fails before startsecs with no retries: FATAL.
        { name: 'broken', command: programs.exitAfter(0, 3), options: { startsecs: '1', startretries: '0' } },
        { name: 'web_api', command: programs.sleep() },
        { name: 'queue', command: programs.sleep(), options: { numprocs: '2' } },
      ],
      groups: { shop: ['web_api'] },
    });
    await sv.waitFor((s) => s.get('broken')?.state === 'FATAL' && s.get('shop:web_api')?.state === 'RUNNING' && s.get('queue:queue_01')?.state === 'RUNNING');
    config = {
      // A poll every 250 ms sees each start of a program that lives about 0.3 s.
      supervisor: { url: sv.unixUrl, timeout: '5s', poll_interval: '250ms' },
      paths: [{ name: 'logs', path: sv.logDir, modified_within: ['10m'] }],
    };
    configFile = path.join(dir, 'hostaudit.yml');
    writeFileSync(configFile, stringify(config));
  });

  after(async () => {
    await sv?.cleanup();
    if (dir) removeTmpDir(dir);
  });

  it('counts the crash loop as flapping, names the FATAL service, and says so in JSON, markdown and HTML', async () => {
    const [json, md, html] = await Promise.all([
      runCli(['audit', `--config.file=${configFile}`, '--format=json', '--sample=6s']),
      runCli(['audit', `--config.file=${configFile}`, '--sample=6s']),
      runCli(['audit', `--config.file=${configFile}`, '--format=html', '--sample=6s']),
    ]);
    assert.equal(json.stderr.includes('internal error'), false, json.stderr);
    const r = JSON.parse(json.stdout) as JsonReport;
    assert.equal(json.code, 1, 'warning and critical anomalies: exit 1');

    // One name per service, as supervisorctl shows it.
    assert.deepEqual(r.services.map((s) => (s.group === s.name ? s.name : `${s.group}:${s.name}`)).sort(), [...sv.status().keys()].sort());

    const crasher = r.services.find((s) => s.name === 'crasher');
    assert.ok(crasher, 'crasher in the report');
    assert.ok((crasher.restarts_in_sample ?? 0) >= 3, `crasher restarted ${crasher.restarts_in_sample} times in 6 s`);
    const flapping = r.anomalies.find((a) => a.threshold === 'serviceFlapping' && a.subject === 'crasher');
    assert.ok(flapping, JSON.stringify(r.anomalies.map((a) => [a.threshold, a.subject])));
    assert.equal(flapping.severity, 'warning');
    assert.match(flapping.current, new RegExp(`restarted ${crasher.restarts_in_sample} times during the \\d+s sample`));
    assert.match(flapping.recommendation, /supervisorctl tail crasher stderr/);
    for (const s of r.services.filter((x) => x.name !== 'crasher')) assert.equal(s.restarts_in_sample, 0, `${s.name} restarts`);

    const broken = r.services.find((s) => s.name === 'broken');
    assert.equal(broken?.state, 'FATAL');
    const down = r.anomalies.find((a) => a.threshold === 'serviceDown' && a.subject === 'broken');
    assert.ok(down);
    assert.equal(down.severity, 'critical');
    assert.match(down.current, /state FATAL: Exited too quickly/);
    assert.match(down.recommendation, /supervisorctl tail broken stderr.*supervisorctl start broken/);
    assert.equal(r.status, 'critical');
    assert.deepEqual(r.summary.audit.services.crasher?.restarts_in_sample, crasher.restarts_in_sample);

    // markdown: the restarts are in the words, "All Running" is not
    assert.equal(md.code, 1, md.stderr);
    assert.doesNotMatch(md.stdout, /All Running/);
    assert.match(md.stdout, /\| \*\*Supervisor Services\*\* \| ⚠️ [12] not running \| [34]\/5 services active; restarted during the sample: crasher ×\d+ \|/);
    assert.match(md.stdout, /\| Service \| State \| Restarts in sample \|/);
    assert.match(md.stdout, /\| \*\*crasher\*\* \| [A-Z]+ \| \d+ \|/);
    assert.match(md.stdout, /### \d+\. ⚠️ Service crasher is flapping/);
    assert.match(md.stdout, /### \d+\. ❌ Service broken is FATAL/);
    assert.match(md.stdout, /\*\*shop:web_api\*\*/);
    assert.doesNotMatch(md.stdout, /crasher:crasher|broken:broken/);

    // HTML: a page with the same services and anomalies
    assert.equal(html.code, 1, html.stderr);
    assert.match(html.stdout, /^<!DOCTYPE html>/);
    for (const id of sv.status().keys()) assert.ok(html.stdout.includes(`data-service="${id}"`), id);
    assert.match(html.stdout, /data-threshold="serviceFlapping" data-subject="crasher"/);
    assert.match(html.stdout, /data-threshold="serviceDown" data-subject="broken"/);
    assert.doesNotMatch(html.stdout, /<script|https?:\/\/(?!127\.0\.0\.1)/);

    for (const out of [json.stdout, md.stdout, html.stdout]) {
      assert.deepEqual(originalHostWordsIn(out), [], 'words of the original audit in a report of this host');
    }
  });

  it('compares with a baseline: from 0, new and gone only for missing rows, no growth from a young baseline', async () => {
    const baselineFile = path.join(dir, 'baseline.json');
    writeFileSync(
      baselineFile,
      JSON.stringify({
        schema: 'hostaudit-audit/1',
        generated_at: new Date(Date.now() - 14_000).toISOString(),
        storage: { paths: [{ name: 'logs', bytes: 1 }] }, // logs grew "enormously" in 14 s
        services: [
          { group: 'crasher', name: 'crasher', cpu_percent: 0, memory_bytes: 9e6 },
          { group: 'shop', name: 'web_api', cpu_percent: null, memory_bytes: 0 },
          { group: 'retired', name: 'retired', cpu_percent: 1, memory_bytes: 9e6 },
        ],
      }),
    );
    const [json, md] = await Promise.all([
      runCli(['audit', `--config.file=${configFile}`, '--format=json', '--sample=1s', `--baseline=${baselineFile}`]),
      runCli(['audit', `--config.file=${configFile}`, '--sample=1s', `--baseline=${baselineFile}`]),
    ]);
    const r = JSON.parse(json.stdout) as JsonReport;
    const rows = r.baseline?.rows ?? [];
    const row = (component: string, unit: string) => rows.find((x) => x.section === 'services' && x.component === component && x.unit === unit);
    assert.equal(row('crasher', 'percent')?.presence, 'both');
    assert.equal(row('shop:web_api', 'bytes')?.presence, 'both');
    assert.equal(row('retired', 'percent')?.presence, 'gone');
    assert.equal(row('queue:queue_00', 'percent')?.presence, 'new');
    assert.equal(rows.some((x) => /crasher:crasher|shop:shop/.test(x.component)), false);
    assert.equal(r.baseline?.growth_extrapolated, false);
    assert.match(r.baseline?.growth_note ?? '', /baseline is \d+s old.*at least 1h old/);
    assert.equal(r.anomalies.some((a) => a.threshold === 'logsGrowth'), false, 'no 7-day prediction from 14 s');

    const crasherLine = md.stdout.split('\n').find((l) => l.startsWith('| **crasher** |')) ?? '';
    // CPU from 0.0 %: "from 0" (or "No change" when it is still 0.0, "n/a" when it is between
    // runs and has none), never "new"
    const [, cpuNow, change] = /\| 0\.0% \| ([\d.]+%|n\/a) \| ([^|]+) \|/.exec(crasherLine) ?? [];
    assert.equal(change?.trim(), cpuNow === 'n/a' ? 'n/a' : parseFloat(cpuNow ?? '') > 0 ? 'from 0' : 'No change', crasherLine);
    // memory from 0 B, and CPU missing in the baseline though the service was there: n/a
    assert.match(md.stdout, /\| \*\*shop:web_api\*\* \| RUNNING \| n\/a \| [\d.]+% \| n\/a \| 0B \| [\d.]+MB \| from 0 \|/);
    assert.match(md.stdout, /\| \*\*retired\*\* \| absent \| 1\.0% \| n\/a \| gone \|/);
    assert.match(md.stdout, /\| \*\*queue:queue_00\*\* \| RUNNING \| n\/a \| [\d.]+% \| new \|/);
    assert.match(md.stdout, /\*\*Growth\*\*: growth not extrapolated: the baseline is \d+s old/);
    for (const out of [json.stdout, md.stdout]) assert.deepEqual(originalHostWordsIn(out), []);
  });
});

describe('audit: which supervisord failure', () => {
  let dir: string;
  let sv: Supervisord;
  const servers: Array<http.Server | net.Server> = [];
  const heldSockets: net.Socket[] = [];

  before(async () => {
    dir = makeTmpDir('hostaudit-audit-fail-');
    sv = await Supervisord.start({ programs: [{ name: 'app', command: programs.sleep() }], unixAuth: { username: 'auditor', password: SECRET } });
  });

  after(async () => {
    for (const s of heldSockets) s.destroy();
    for (const s of servers) s.close();
    await sv?.cleanup();
    if (dir) removeTmpDir(dir);
  });

  const configWith = (name: string, supervisor: Record<string, unknown>): string => {
    const f = path.join(dir, `${name}.yml`);
    writeFileSync(f, stringify({ supervisor: { timeout: '1s', ...supervisor } }));
    return f;
  };

  const listen = async <T extends http.Server | net.Server>(s: T): Promise<number> => {
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return (s.address() as AddressInfo).port;
  };

  /** Runs the audit as a user whom file permissions apply to (root without its DAC override). */
  const runUnprivileged = (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> => {
    const [cmd, argv] = unprivileged(process.execPath, exporterArgv(args));
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    return new Promise((resolve) =>
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      }),
    );
  };

  it('names each failure in the log, the report and its remedy', async () => {
    const wrongPass = path.join(dir, 'wrong.pass');
    writeFileSync(wrongPass, 'not-the-password\n');
    // Something that is not supervisord: an HTTP server answering HTML.
    const htmlPort = await listen(http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>hello</body></html>')));
    // Something that accepts and never answers.
    const silentPort = await listen(net.createServer((s) => heldSockets.push(s)));
    const runs = await Promise.all([
      runCli(['audit', `--config.file=${configWith('auth', { url: sv.unixUrl, username: 'auditor', password_file: wrongPass })}`, '--format=json', '--sample=1s']),
      runCli(['audit', `--config.file=${configWith('unreachable', { url: `unix://${path.join(dir, 'nobody.sock')}` })}`, '--format=json', '--sample=1s']),
      runCli(['audit', `--config.file=${configWith('protocol', { url: `http://127.0.0.1:${htmlPort}/RPC2` })}`, '--format=json', '--sample=1s']),
      runCli(['audit', `--config.file=${configWith('timeout', { url: `http://127.0.0.1:${silentPort}/RPC2` })}`, '--format=json', '--sample=1s']),
    ]);
    // A socket the exporter's user may not open: mode 000, and the run without root's override.
    chmodSync(sv.socket, 0o000);
    let permission;
    try {
      permission = await runUnprivileged(['audit', `--config.file=${configWith('permission', { url: sv.unixUrl, username: 'auditor', password_file: wrongPass })}`, '--format=json', '--sample=1s']);
    } finally {
      chmodSync(sv.socket, 0o700);
    }
    const expected: Array<[string, RegExp]> = [
      ['auth', /supervisor\.username and supervisor\.password_file/],
      ['unreachable', /check that supervisord is running/],
      ['protocol', /not with supervisord's XML-RPC/],
      ['timeout', /did not answer within supervisor\.timeout: it is busy or blocked/],
      ['permission', /give the socket a group the exporter is in/],
    ];
    [...runs, permission].forEach((run, i) => {
      const [failure, remedy] = expected[i] as [string, RegExp];
      assert.equal(run.stderr.includes('internal error'), false, run.stderr);
      const r = JSON.parse(run.stdout) as JsonReport;
      assert.equal(r.supervisor.up, false, failure);
      assert.equal(r.supervisor.failure, failure, `${failure}: ${r.supervisor.error}`);
      const a = r.anomalies.find((x) => x.threshold === 'supervisorDown');
      assert.ok(a, failure);
      assert.equal(a.title, `supervisord could not be read: ${failure}`);
      assert.match(a.recommendation, remedy, failure);
      if (failure !== 'unreachable') assert.doesNotMatch(a.recommendation, /systemctl/, `${failure}: not sent to systemctl`);
      assert.equal(r.summary.audit.system_health.supervisor, `down_${failure}`);
      // the log says which failure, once, at warn
      assert.match(run.stderr, new RegExp(`level=warn msg="supervisord did not answer" failure=${failure}`), run.stderr);
      assert.equal(run.stdout.includes(SECRET) || run.stderr.includes(SECRET), false);
      assert.equal(run.code, 1);
    });
  });
});
