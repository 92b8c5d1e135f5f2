// The exporter run as an unprivileged user (setpriv, uid nobody) next to root's services: the
// figures that need another user's /proc/PID/fd, io or smaps_rollup are absent, never 0;
// hostaudit_service_read_errors counts the processes; one warning line says which services
// and what to change, however many scrapes.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { exporterArgv } from './helpers/exporter.js';
import { find, parseMetrics, value } from './helpers/metrics.js';
import { programs, sleep, Supervisord } from './helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

const NOBODY = 65534;

describe('exporter as another user than the services', () => {
  let sv: Supervisord;
  let child: ChildProcess;
  let dir: string;
  let output = '';
  let url = '';

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the tests run as root, so root-owned services can be watched by nobody');
    sv = await Supervisord.start({
      programs: [
        { name: 'alpha', command: programs.burn(0.05, 0.05) },
        { name: 'beta', command: programs.sleep() },
      ],
      inet: { username: 'auditor', password: 'pw-not-in-output' },
    });
    await sv.waitFor((s) => s.get('alpha')?.state === 'RUNNING' && s.get('beta')?.state === 'RUNNING', 60_000);
    dir = makeTmpDir('hostaudit-nobody-');
    chmodSync(dir, 0o755);
    const cfg = path.join(dir, 'hostaudit.yml');
    writeFileSync(cfg, stringify({ supervisor: { url: sv.httpUrl, username: 'auditor' } }), { mode: 0o644 });
    child = spawn(
      'setpriv',
      [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, ...exporterArgv(['--web.listen-address=127.0.0.1:0', `--config.file=${cfg}`])],
      { cwd: dir, env: { ...process.env, HOSTAUDIT_SUPERVISOR_PASSWORD: 'pw-not-in-output', HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    for (let i = 0; i < 600 && !url; i++) {
      const m = /msg=listening address=\S+?:(\d+)\b/.exec(output);
      if (m) url = `http://127.0.0.1:${m[1]}`;
      else if (child.exitCode !== null) break;
      else await sleep(100);
    }
    assert.ok(url, `exporter started as nobody:\n${output}`);
  });

  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await sv?.cleanup();
    if (dir) removeTmpDir(dir);
  });

  it('serves the fds, I/O and PSS it cannot read as absent, counts the processes, and warns once', async () => {
    let samples = parseMetrics(await (await fetch(`${url}/metrics`)).text());
    for (let i = 0; i < 3; i++) samples = parseMetrics(await (await fetch(`${url}/metrics`)).text());
    for (const name of ['alpha', 'beta']) {
      const procs = value(samples, 'hostaudit_service_processes', { name }) as number;
      assert.ok(procs >= 1);
      assert.equal(value(samples, 'hostaudit_service_read_errors', { name }), procs, `${name}: every process refused`);
      for (const metric of [
        'hostaudit_service_open_fds',
        'hostaudit_service_tcp_connections',
        'hostaudit_service_fd_usage_ratio',
        'hostaudit_service_deleted_open_bytes',
        'hostaudit_service_proportional_memory_bytes',
        'hostaudit_service_swap_bytes',
      ]) {
        assert.equal(find(samples, metric, { name }).length, 0, `${metric} absent for ${name}`);
      }
      assert.equal(find(samples, 'hostaudit_service_io_bytes_total', { name }).length, 0, `io absent for ${name}`);
      // What /proc/PID/stat and status give anyone is still served.
      assert.ok((value(samples, 'hostaudit_service_threads', { name }) as number) >= 1);
      assert.ok(value(samples, 'hostaudit_service_resident_memory_bytes', { name }) as number > 0);
    }
    const warnings = output.split('\n').filter((l) => l.includes("cannot read some services' /proc files"));
    assert.equal(warnings.length, 1, output);
    assert.match(warnings[0] as string, /level=warn/);
    assert.match(warnings[0] as string, /services=(alpha,beta|beta,alpha)/);
    assert.match(warnings[0] as string, /CAP_SYS_PTRACE/);
    assert.doesNotMatch(output, /pw-not-in-output/);
  });
});
