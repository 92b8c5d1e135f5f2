// `init` against a real supervisord whose programs log to files, listen on a port (an HTTP
// server in python3) and keep SQLite databases in their working directories: the config it
// writes passes --config.check, and an exporter started with it watches what is there.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { assertOneLineError } from './helpers/assert-cli.js';
import { Exporter, ROOT, runCli } from './helpers/exporter.js';
import { value, type ParsedSample } from './helpers/metrics.js';
import { PYTHON, freePort, programs, sleep, Supervisord } from './helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

const WEB_APP = path.join(ROOT, 'test', 'fixtures', 'programs', 'web_app.py');

describe('init', () => {
  let sv: Supervisord;
  let dir: string;
  let webDir: string;
  let workerDir: string;
  let port: number;
  let configFile: string;

  before(async () => {
    dir = makeTmpDir('hostaudit-init-');
    webDir = path.join(dir, 'web');
    workerDir = path.join(dir, 'worker');
    mkdirSync(path.join(webDir, 'conf'), { recursive: true });
    mkdirSync(path.join(workerDir, 'db'), { recursive: true });
    writeFileSync(path.join(webDir, 'conf', 'app.yaml'), 'mode: test\n');
    // A database the worker keeps (made with the sqlite3 CLI the tests already need).
    const { spawnSync } = await import('node:child_process');
    assert.equal(spawnSync('sqlite3', [path.join(workerDir, 'db', 'orders.db'), 'CREATE TABLE o (id INTEGER);']).status, 0);
    port = await freePort();
    sv = await Supervisord.start({
      programs: [
        { name: 'web', command: `${PYTHON} ${WEB_APP} ${port} conf/app.yaml`, options: { directory: webDir } },
        { name: 'worker', command: programs.sleep(), options: { directory: workerDir } },
      ],
      inet: { username: 'auditor', password: 'init-secret-pw' },
    });
    await sv.waitFor((s) => s.get('web')?.state === 'RUNNING' && s.get('worker')?.state === 'RUNNING');
    // The web app answers once its server thread is up.
    for (let i = 0; i < 100; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
      if (ok) break;
      await sleep(200);
    }
    configFile = path.join(dir, 'hostaudit.yml');
  });

  after(async () => {
    await sv?.cleanup();
    if (dir) removeTmpDir(dir);
  });

  it('writes a commented config that --config.check accepts', async () => {
    const r = await runCli(['init', `--supervisor.url=${sv.unixUrl}`, `--out=${configFile}`], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const text = readFileSync(configFile, 'utf8');
    assert.match(text, /^# hostaudit-exporter config, written by `hostaudit-exporter init`/);
    const check = await runCli(['--config.check', `--config.file=${configFile}`], { cwd: dir });
    assert.equal(check.code, 0, check.stderr);
    assert.equal(check.stdout, 'config OK\n');

    const cfg = parse(text) as Record<string, unknown>;
    assert.deepEqual(cfg.supervisor, { url: sv.unixUrl });
    const paths = cfg.paths as Array<{ name: string; path: string }>;
    assert.deepEqual(
      paths.map((p) => [p.name, p.path]),
      [['logs', sv.logDir], ['web', webDir], ['worker', workerDir]],
    );
    assert.deepEqual(cfg.databases, [path.join(webDir, '**', '*.db'), path.join(workerDir, '**', '*.db')]);
    assert.deepEqual(cfg.probes, [{ name: 'web', url: `http://127.0.0.1:${port}/health`, timeout: '2s' }]);
    assert.deepEqual(cfg.critical_files, [path.join(webDir, 'conf', 'app.yaml')]);
    assert.deepEqual(cfg.process_names, ['python']);
  });

  it('watches what is there', async () => {
    const e = await Exporter.start({ args: [`--config.file=${configFile}`] });
    try {
      let s: ParsedSample[] = [];
      // The first path scan runs in the background, and a loaded machine may miss a probe's
      // 2 s: wait until every figure is in.
      for (let i = 0; i < 150; i++) {
        s = await e.scrape();
        const ready =
          value(s, 'hostaudit_path_bytes', { name: 'worker' }) !== undefined &&
          value(s, 'hostaudit_path_bytes', { name: 'logs' }) !== undefined &&
          value(s, 'hostaudit_probe_success', { probe: 'web' }) === 1 &&
          value(s, 'hostaudit_sqlite_ok', { database: 'orders' }) === 1;
        if (ready) break;
        await sleep(200);
      }
      assert.ok((value(s, 'hostaudit_path_bytes', { name: 'logs' }) ?? 0) > 0, 'the log directory is measured');
      assert.equal(value(s, 'hostaudit_sqlite_ok', { database: 'app' }), 1);
      assert.equal(value(s, 'hostaudit_sqlite_ok', { database: 'orders' }), 1);
      assert.equal(value(s, 'hostaudit_probe_success', { probe: 'web' }), 1);
      assert.equal(value(s, 'hostaudit_file_present', { path: path.join(webDir, 'conf', 'app.yaml') }), 1);
      assert.ok((value(s, 'hostaudit_host_processes', { name: 'python' }) ?? 0) >= 2);
      assert.equal(value(s, 'hostaudit_supervisor_up'), 1);
    } finally {
      await e.cleanup();
    }
  });

  it('reaches a supervisord that asks for credentials with those of --config.file, and writes them back', async () => {
    const pass = path.join(dir, 'supervisor.pass');
    writeFileSync(pass, 'init-secret-pw\n');
    const auth = path.join(dir, 'auth.yml');
    writeFileSync(auth, stringify({ supervisor: { username: 'auditor', password_file: pass } }));
    const out = path.join(dir, 'with-auth.yml');
    const r = await runCli(['init', `--config.file=${auth}`, `--supervisor.url=${sv.httpUrl}`, `--out=${out}`], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const text = readFileSync(out, 'utf8');
    assert.doesNotMatch(text + r.stderr, /init-secret-pw/, 'the password itself is written nowhere');
    assert.deepEqual((parse(text) as { supervisor: unknown }).supervisor, { url: sv.httpUrl, username: 'auditor', password_file: pass });
    const check = await runCli(['--config.check', `--config.file=${out}`], { cwd: dir });
    assert.equal(check.stdout, 'config OK\n', check.stderr);
  });

  it('refuses to overwrite --out', async () => {
    const before = readFileSync(configFile, 'utf8');
    const r = await runCli(['init', `--supervisor.url=${sv.unixUrl}`, `--out=${configFile}`], { cwd: dir });
    assert.equal(r.code, 2);
    assertOneLineError(r.stderr, /exists; init does not overwrite it/);
    assert.equal(readFileSync(configFile, 'utf8'), before);
  });

  it('says which address to give when supervisord does not answer', async () => {
    const r = await runCli(['init', `--supervisor.url=unix://${path.join(dir, 'nobody.sock')}`], { cwd: dir });
    assert.equal(r.code, 2);
    assertOneLineError(r.stderr, /supervisord did not answer .*--supervisor\.url/);
  });
});
