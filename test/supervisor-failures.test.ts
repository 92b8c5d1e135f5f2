// Which failure: against a real supervisord, each way of not reading it is named in the log
// (`failure=...`, as SupervisorError classifies it) and served as supervisor_up 0. The
// hostile peer's answers (protocol, timeout) are in supervisor-hostile.test.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { Exporter, exporterArgv } from './helpers/exporter.js';
import { parseMetrics, value } from './helpers/metrics.js';
import { programs, sleep, Supervisord } from './helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';
import { unprivileged } from './helpers/unprivileged.js';

const dir = makeTmpDir('hostaudit-svfail-');
after(() => removeTmpDir(dir));

async function upAndFailure(exp: Exporter, failure: string): Promise<void> {
  const m = await exp.scrape();
  assert.equal(value(m, 'hostaudit_supervisor_up'), 0);
  assert.equal(value(m, 'hostaudit_collector_success', { collector: 'supervisor' }), 1);
  assert.match(exp.output, new RegExp(`supervisord did not answer.*failure=${failure}\\b`));
}

describe('supervisord failures, each by its name', () => {
  let sv: Supervisord;

  before(async () => {
    sv = await Supervisord.start({
      programs: [{ name: 'main_app', command: programs.sleep() }],
      unixAuth: { username: 'auditor', password: 'right-password' },
    });
  });

  after(async () => {
    await sv?.cleanup();
  });

  it('no socket at the URL: unreachable', async () => {
    const exp = await Exporter.start({ config: { supervisor: { url: `unix://${path.join(dir, 'none.sock')}`, timeout: '2s' } } });
    try {
      await upAndFailure(exp, 'unreachable');
    } finally {
      await exp.cleanup();
    }
  });

  it('a wrong password: auth, and the password is not logged', async () => {
    const exp = await Exporter.start({
      config: { supervisor: { url: sv.unixUrl, username: 'auditor', timeout: '2s' } },
      env: { HOSTAUDIT_SUPERVISOR_PASSWORD: 'wrong-password-1234' },
    });
    try {
      await upAndFailure(exp, 'auth');
      assert.doesNotMatch(exp.output, /wrong-password-1234/);
    } finally {
      await exp.cleanup();
    }
  });

  it('the right password: up 1 (the same supervisord)', async () => {
    const exp = await Exporter.start({
      config: { supervisor: { url: sv.unixUrl, username: 'auditor', timeout: '2s' } },
      env: { HOSTAUDIT_SUPERVISOR_PASSWORD: 'right-password' },
    });
    try {
      assert.equal(value(await exp.scrape(), 'hostaudit_supervisor_up'), 1);
    } finally {
      await exp.cleanup();
    }
  });

  it('a socket the exporter may not open: permission', async () => {
    // Without CAP_DAC_OVERRIDE (unprivileged.ts) a socket of mode 000 is refused with EACCES.
    chmodSync(sv.socket, 0o000);
    const cfg = path.join(dir, 'perm.yml');
    writeFileSync(cfg, stringify({ supervisor: { url: sv.unixUrl, username: 'auditor', timeout: '2s' } }));
    const [cmd, args] = unprivileged(process.execPath, exporterArgv([`--config.file=${cfg}`, '--web.listen-address=127.0.0.1:0', '--log.level=debug']));
    const child = spawn(cmd, args, { env: { ...process.env, HOSTAUDIT_SUPERVISOR_PASSWORD: 'right-password' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const deadline = Date.now() + 60_000;
      let port: string | undefined;
      while (!(port = /msg=listening address=\S+?:(\d+)\b/.exec(out)?.[1])) {
        assert.ok(Date.now() < deadline && child.exitCode === null, `exporter did not start:\n${out}`);
        await sleep(100);
      }
      const m = parseMetrics(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      assert.equal(value(m, 'hostaudit_supervisor_up'), 0);
      assert.match(out, /supervisord did not answer.*failure=permission\b.*EACCES/);
    } finally {
      child.kill('SIGKILL');
      chmodSync(sv.socket, 0o700);
    }
  });
});
