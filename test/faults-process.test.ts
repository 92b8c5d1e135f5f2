// Faults of what the supervisor collector reads, against real processes: a process tree that
// forks and exits while /proc is read; the password file unreadable at start (exit 2) and
// later (supervisor_up 0, the exporter keeps serving, and recovers).
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { Exporter, runCli } from './helpers/exporter.js';
import { find, value } from './helpers/metrics.js';
import { programs, PYTHON, sleep, Supervisord } from './helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

const dir = makeTmpDir('hostaudit-fault-proc-');
after(() => removeTmpDir(dir));
const FORK_STORM = `${PYTHON} ${path.resolve(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'programs', 'fork_storm.py')} 8`;

describe('a process tree that forks and exits during the scrape', () => {
  let sv: Supervisord;
  let exp: Exporter;

  before(async () => {
    sv = await Supervisord.start({
      programs: [
        { name: 'cascading_failure_detector', command: FORK_STORM },
        { name: 'main_app', command: programs.sleep() },
      ],
    });
    await sv.waitFor((s) => s.get('cascading_failure_detector')?.state === 'RUNNING');
    exp = await Exporter.start({ config: { supervisor: { url: sv.unixUrl } } });
  });

  after(async () => {
    await exp?.cleanup();
    await sv?.cleanup();
  });

  it('serves every scrape with the collector succeeding and CPU counters never going back', async () => {
    const l = { group: 'cascading_failure_detector', name: 'cascading_failure_detector' };
    let lastUser = 0;
    let lastSystem = 0;
    let sawChildren = false;
    // Most of the time one child lives (the first of each batch, 50 ms); the rest come and go
    // in 2 ms. At least 40 scrapes, and on until children were seen (every invariant checked).
    for (let i = 0; i < 200 && (i < 40 || !sawChildren); i++) {
      const m = await exp.scrape();
      assert.equal(value(m, 'hostaudit_collector_success', { collector: 'supervisor' }), 1, `scrape ${i}`);
      assert.equal(value(m, 'hostaudit_service_up', l), 1);
      const procs = value(m, 'hostaudit_service_processes', l) ?? 0;
      assert.ok(procs >= 1, `the root is always counted (scrape ${i}: ${procs})`);
      if (procs > 1) sawChildren = true;
      const user = value(m, 'hostaudit_service_cpu_seconds_total', { ...l, mode: 'user' }) ?? -1;
      const system = value(m, 'hostaudit_service_cpu_seconds_total', { ...l, mode: 'system' }) ?? -1;
      assert.ok(user >= lastUser && system >= lastSystem, `scrape ${i}: cpu ${user}/${system} after ${lastUser}/${lastSystem}`);
      lastUser = user;
      lastSystem = system;
      assert.ok((value(m, 'hostaudit_service_resident_memory_bytes', l) ?? 0) > 0);
      assert.equal(value(m, 'hostaudit_service_processes', { group: 'main_app', name: 'main_app' }), 1);
    }
    assert.ok(sawChildren, 'the storm was caught mid-fork at least once');
    assert.ok(lastUser + lastSystem > 0);
    assert.doesNotMatch(exp.output, /collector failed|reading \/proc failed/);
  });
});

describe('the supervisor password file', () => {
  const USER = 'auditor';
  const PASS = 'pw-5be1c0';
  let sv: Supervisord;

  before(async () => {
    sv = await Supervisord.start({ programs: [{ name: 'trades', command: programs.sleep() }], unixAuth: { username: USER, password: PASS } });
  });
  after(async () => sv?.cleanup());

  function config(passwordFile: string): string {
    const f = path.join(dir, `cfg-${path.basename(passwordFile)}.yml`);
    writeFileSync(f, stringify({ supervisor: { url: sv.unixUrl, username: USER, password_file: passwordFile } }));
    return f;
  }

  it('unreadable at start: exit 2 with one line naming the file and the key', async () => {
    const missing = path.join(dir, 'missing.pass');
    const asDir = path.join(dir, 'dir.pass');
    mkdirSync(asDir);
    const cases: Array<[string, RegExp]> = [
      [missing, /supervisor\.password_file: cannot read .*missing\.pass: ENOENT/],
      [asDir, /supervisor\.password_file: cannot read .*dir\.pass: a directory, not a regular file/],
    ];
    if (process.getuid?.() !== 0) {
      // Permissions only bind a non-root user (root reads a mode-000 file).
      const locked = path.join(dir, 'locked.pass');
      writeFileSync(locked, PASS);
      chmodSync(locked, 0o000);
      cases.push([locked, /supervisor\.password_file: cannot read .*locked\.pass: EACCES/]);
    }
    for (const [file, re] of cases) {
      const r = await runCli([`--config.file=${config(file)}`, '--web.listen-address=127.0.0.1:0']);
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0] ?? '', /^hostaudit-exporter: error: .*cfg-.*\.yml: /);
      assert.match(lines[0] ?? '', re);
    }
  });

  it('unreadable later: supervisor_up 0, the exporter keeps serving, and recovers when it is back', async () => {
    const file = path.join(dir, 'later.pass');
    writeFileSync(file, `${PASS}\n`);
    const exp = await Exporter.start({ args: [`--config.file=${config(file)}`] });
    try {
      let m = await exp.scrape();
      assert.equal(value(m, 'hostaudit_supervisor_up'), 1);
      for (const breakIt of [() => rmSync(file), () => (rmSync(file), mkdirSync(file))]) {
        breakIt();
        m = await exp.scrape();
        assert.equal(value(m, 'hostaudit_supervisor_up'), 0);
        assert.equal(find(m, 'hostaudit_service_info').length, 0);
        assert.equal(find(m, 'hostaudit_exporter_build_info').length, 1);
        assert.equal((await exp.get('/-/healthy')).status, 200);
        assert.equal((await exp.get('/-/ready')).status, 200);
        rmSync(file, { recursive: true, force: true });
        writeFileSync(file, `${PASS}\n`);
        m = await exp.scrape();
        assert.equal(value(m, 'hostaudit_supervisor_up'), 1, 'read fresh on the next scrape');
      }
      await sleep(200);
      assert.match(exp.output, /cannot read password_file: .*ENOENT/);
      assert.ok(!exp.output.includes(PASS));
      assert.equal(exp.child.exitCode, null, 'still running');
    } finally {
      await exp.cleanup();
    }
  });
});
