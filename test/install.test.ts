// The release artifact as an operator installs it: `npm pack`, then `npm install -g` of the
// tarball into a temporary prefix (production dependencies from the registry or npm's cache),
// run from another directory: --version, --config.check, serve, audit, generate. No dev
// dependency may be inside it. The systemd unit is verified against the installed command, and
// `npm start` must not leave the exporter running when npm gets SIGTERM.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { ROOT } from './helpers/exporter.js';
import { parseMetrics, value } from './helpers/metrics.js';
import { sleep } from './helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

const PKG = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

function run(cmd: string, args: string[], cwd: string, timeout = 240_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, npm_config_update_notifier: 'false' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts a command that serves, waits for its "listening" line; returns the child and its URL. */
async function serve(cmd: string, args: string[], cwd: string): Promise<{ child: ReturnType<typeof spawn>; url: string; output: () => string }> {
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 1200 && child.exitCode === null; i++) {
    const m = /msg=listening address=\S+?:(\d+)\b/.exec(out);
    if (m) return { child, url: `http://127.0.0.1:${m[1]}`, output: () => out };
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`did not start listening:\n${out}`);
}

function exited(child: ReturnType<typeof spawn>): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

describe('the packed tarball, installed', () => {
  let dir: string;
  let prefix: string;
  let bin: string;
  let elsewhere: string;
  let tarball: string;
  let config: string;

  before(() => {
    dir = makeTmpDir('hostaudit-install-');
    prefix = path.join(dir, 'prefix');
    elsewhere = path.join(dir, 'elsewhere');
    spawnSync('mkdir', ['-p', elsewhere]);
    const pack = run('npm', ['pack', '--pack-destination', dir, '--silent'], ROOT);
    assert.equal(pack.status, 0, pack.stderr);
    tarball = path.join(dir, pack.stdout.trim().split('\n').pop() as string);
    const install = run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], elsewhere);
    assert.equal(install.status, 0, install.stderr);
    bin = path.join(prefix, 'bin', 'hostaudit-exporter');
    config = path.join(elsewhere, 'watch.yml');
    writeFileSync(
      config,
      stringify({
        supervisor: { url: `unix://${path.join(dir, 'no-supervisord.sock')}` },
        critical_files: [config],
        thresholds: { service_high_cpu: { value: 0.55 }, services: { worker: { service_high_cpu: { value: 0.9, for: '30m' } } } },
      }),
    );
  });
  after(() => {
    if (dir) removeTmpDir(dir);
  });

  it('packs the built program, docs and packaging, not sources or tests', () => {
    const files = run('tar', ['tzf', tarball], dir).stdout.split('\n').filter(Boolean);
    for (const f of ['package/dist/main.js', 'package/docs/runbooks.md', 'package/packaging/systemd/hostaudit-exporter.service', 'package/hostaudit.example.yml']) {
      assert.ok(files.includes(f), `${f} in the tarball`);
    }
    assert.deepEqual(files.filter((f) => /^package\/(src|test|bench|\.ci)\//.test(f) || f.endsWith('.tsbuildinfo')), []);
  });

  it('has production dependencies only', () => {
    const modules = path.join(prefix, 'lib', 'node_modules', 'hostaudit-exporter', 'node_modules');
    for (const dep of Object.keys(PKG.dependencies)) assert.ok(existsSync(path.join(modules, dep)), `${dep} installed`);
    const present = Object.keys(PKG.devDependencies).filter((dep) => existsSync(path.join(modules, dep)));
    assert.deepEqual(present, [], 'no dev dependency installed');
    assert.ok(readdirSync(modules).length > 0);
  });

  it('runs --version and --config.check from another directory', () => {
    const v = run(bin, ['--version'], elsewhere);
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, new RegExp(`^hostaudit-exporter ${PKG.version.replace(/\./g, '\\.')} `));
    const c = run(bin, ['--config.check', `--config.file=${config}`], elsewhere);
    assert.equal(c.status, 0, c.stderr);
    assert.equal(c.stdout, 'config OK\n');
  });

  it('serves /metrics', async () => {
    const s = await serve(bin, ['--web.listen-address=127.0.0.1:0', `--config.file=${config}`], elsewhere);
    try {
      const samples = parseMetrics(await (await fetch(`${s.url}/metrics`)).text());
      assert.equal(value(samples, 'hostaudit_exporter_build_info', { version: PKG.version }), 1);
      assert.equal(value(samples, 'hostaudit_file_present', { path: config }), 1);
      assert.equal(value(samples, 'hostaudit_supervisor_up'), 0);
    } finally {
      s.child.kill('SIGTERM');
      await exited(s.child);
    }
  });

  it('writes an audit report', () => {
    const r = run(bin, ['audit', `--config.file=${config}`, '--sample=1s', '--format=json'], elsewhere);
    assert.ok(r.status === 0 || r.status === 1, r.stderr);
    const report = JSON.parse(r.stdout) as { anomalies: Array<{ alert: string }> };
    assert.ok(report.anomalies.some((a) => a.alert === 'HostAuditSupervisorDown'), 'judged: supervisord is not there');
  });

  it('generates rules and dashboards with the config\'s thresholds', () => {
    const out = path.join(dir, 'generated');
    const r = run(bin, ['generate', `--config.file=${config}`, `--out=${out}`], elsewhere);
    assert.equal(r.status, 0, r.stderr);
    const rules = readFileSync(path.join(out, 'hostaudit.rules.yml'), 'utf8');
    assert.match(rules, /rate\(hostaudit_service_cpu_seconds_total\[5m\]\)\) > 0\.55\) unless on \(job, instance, group, name\)/);
    assert.match(rules, /> 0\.9\) and on \(job, instance, group, name\) hostaudit_service_info\{name="worker"\}/);
    const dashboards = readdirSync(path.join(out, 'dashboards')).sort();
    assert.ok(dashboards.includes('host-audit.json'), dashboards.join(', '));
    assert.match(readFileSync(path.join(out, 'dashboards', 'host-audit.json'), 'utf8'), /"value": 0\.55/);
    const check = run('promtool', ['check', 'rules', path.join(out, 'hostaudit.rules.yml')], dir);
    assert.equal(check.status, 0, check.stdout + check.stderr);
  });

  it('has a systemd unit that systemd-analyze verify accepts', () => {
    const unit = readFileSync(path.join(ROOT, 'packaging', 'systemd', 'hostaudit-exporter.service'), 'utf8');
    assert.match(unit, /^ExecStart=\/usr\/local\/bin\/hostaudit-exporter \$ARGS$/m);
    assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    assert.match(unit, /^User=hostaudit$/m);
    assert.match(readFileSync(path.join(ROOT, 'packaging', 'systemd', 'hostaudit-exporter.default'), 'utf8'), /^ARGS="[^"]*"$/m);
    // verify checks that ExecStart exists: point it at the command installed here.
    const local = path.join(dir, 'hostaudit-exporter.service');
    writeFileSync(local, unit.replace('/usr/local/bin/hostaudit-exporter', bin));
    const v = run('systemd-analyze', ['verify', local], dir);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.equal(v.stderr.trim(), '', 'no warnings');
    const sec = run('systemd-analyze', ['security', '--offline=yes', local], dir);
    const level = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(sec.stdout)?.[1]);
    assert.ok(level <= 3, `exposure ${level} (systemd's scale: 0 best, 10 worst)`);
  });
});

describe('npm start', () => {
  it('SIGTERM to npm stops the exporter too', async () => {
    const s = await serve('npm', ['start', '--silent', '--', '--web.listen-address=127.0.0.1:0'], ROOT);
    const npmPid = s.child.pid as number;
    // The exporter is npm's child (the script's shell became node through exec).
    const children = readFileSync(`/proc/${npmPid}/task/${npmPid}/children`, 'utf8').trim().split(/\s+/).map(Number);
    const exporterPid = children.find((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('dist/main.js'));
    assert.ok(exporterPid, `node among npm's children ${children.join(' ')}`);
    assert.equal((await fetch(`${s.url}/-/healthy`)).status, 200);
    s.child.kill('SIGTERM');
    await exited(s.child);
    let alive = true;
    for (let i = 0; i < 200 && alive; i++) {
      try {
        alive = !readFileSync(`/proc/${exporterPid}/stat`, 'utf8').includes(') Z ');
      } catch {
        alive = false;
      }
      if (alive) await sleep(100);
    }
    assert.equal(alive, false, `the exporter (pid ${exporterPid}) stopped:\n${s.output()}`);
    assert.match(s.output(), /msg="shutting down" signal=SIGTERM/);
  });
});
