// The CLI as a user meets it: exit codes, one-line errors, defaults, graceful shutdown.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Exporter, runCli } from './helpers/exporter.js';
import { assertOneLineError } from './helpers/assert-cli.js';
import { value } from './helpers/metrics.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

const dir = makeTmpDir();
after(() => removeTmpDir(dir));

describe('CLI', () => {
  it('exits 2 on an unknown flag', async () => {
    const r = await runCli(['--web.listen-adress=:1']);
    assert.equal(r.code, 2);
    assertOneLineError(r.stderr, /Unknown option '--web\.listen-adress'/);
  });

  it('exits 2 naming file, key and problem for an invalid config', async () => {
    const f = path.join(dir, 'bad.yml');
    writeFileSync(f, 'paths:\n  - name: logs\n    path: /tmp\n    modified_within: [10 minutes]\n');
    const r = await runCli([`--config.file=${f}`]);
    assert.equal(r.code, 2);
    assertOneLineError(r.stderr, /bad\.yml: paths\[0\]\.modified_within\[0\]: must be a duration/);
  });

  it('exits 2 for a missing config file and for YAML errors', async () => {
    const r1 = await runCli([`--config.file=${path.join(dir, 'nope.yml')}`]);
    assert.equal(r1.code, 2);
    assertOneLineError(r1.stderr, /nope\.yml: cannot read config file: ENOENT/);
    const f = path.join(dir, 'syntax.yml');
    writeFileSync(f, 'supervisor: [\n');
    const r2 = await runCli([`--config.file=${f}`]);
    assert.equal(r2.code, 2);
    assertOneLineError(r2.stderr, /syntax\.yml: line \d+ column \d+: invalid YAML/);
  });

  it('exits 3 when the address is in use', async () => {
    const e = await Exporter.start({ config: { supervisor: { url: `unix://${dir}/none.sock` } } });
    try {
      const port = new URL(e.url).port;
      writeFileSync(path.join(dir, 'empty.yml'), '');
      const r = await runCli([`--web.listen-address=127.0.0.1:${port}`, `--config.file=${path.join(dir, 'empty.yml')}`]);
      assert.equal(r.code, 3);
      assertOneLineError(r.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE`));
    } finally {
      await e.cleanup();
    }
  });

  it('prints version and help and exits 0', async () => {
    const v = await runCli(['--version']);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^hostaudit-exporter \d+\.\d+\.\d+ \(node v20/);
    const h = await runCli(['--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /--web\.listen-address/);
  });

  it('runs with built-in defaults when no config exists, and stops cleanly on SIGTERM', async () => {
    const cwd = makeTmpDir();
    const e = await Exporter.start({ cwd });
    try {
      assert.match(e.output, /config="built-in defaults"/);
      const m = await e.scrape();
      // the default sockets are tried; on a host without supervisord that is up 0, never an error
      assert.ok(value(m, 'hostaudit_supervisor_up') !== undefined);
      assert.equal(value(m, 'hostaudit_collector_success', { collector: 'supervisor' }), 1);
      const t0 = Date.now();
      const code = await e.stop();
      assert.equal(code, 0);
      assert.ok(Date.now() - t0 < 2500, 'exits within 2 s of SIGTERM');
      assert.match(e.output, /msg="shutting down" signal=SIGTERM/);
    } finally {
      await e.cleanup();
      removeTmpDir(cwd);
    }
  });

  it('picks up ./hostaudit.yml from the working directory', async () => {
    const cwd = makeTmpDir();
    writeFileSync(path.join(cwd, 'hostaudit.yml'), `supervisor:\n  url: unix://${cwd}/absent.sock\n  timeout: 1s\n`);
    const e = await Exporter.start({ cwd });
    try {
      assert.match(e.output, /config=hostaudit\.yml/);
      const m = await e.scrape();
      assert.equal(value(m, 'hostaudit_supervisor_up'), 0);
    } finally {
      await e.cleanup();
      removeTmpDir(cwd);
    }
  });
});
