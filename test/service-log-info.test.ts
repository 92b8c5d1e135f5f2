// Log freshness and rotation against a real supervisord: rotated and unrotated logs, the
// values equal to what getAllConfigInfo answers, mtimes equal to the live log's, and the
// configured expect_log_write_within.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultConfig } from '../src/config.js';
import { SupervisorClient } from '../src/sources/supervisor.js';
import { Exporter } from './helpers/exporter.js';
import { answers, HostileSupervisord, type Behaviour } from './helpers/hostile-supervisord.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';
import { find, value } from './helpers/metrics.js';
import { PYTHON, sleep, Supervisord } from './helpers/supervisord.js';

const FIXTURES = path.resolve(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'programs');

describe('service log freshness and rotation with a real supervisord', () => {
  let sv: Supervisord;
  let exp: Exporter;

  before(async () => {
    sv = await Supervisord.start({
      programs: [
        // 200 lines of 100 bytes into a 4 KB log: rotated into .1 … .3 at once.
        { name: 'rotated', command: `${PYTHON} ${FIXTURES}/chatter.py 200 0.5`, options: { stdout_logfile_maxbytes: '4KB', stdout_logfile_backups: '3' } },
        { name: 'unrotated', command: `${PYTHON} ${FIXTURES}/chatter.py 5 3600`, options: { stdout_logfile_maxbytes: '0', stderr_logfile_maxbytes: '0', stdout_logfile_backups: '0' } },
      ],
    });
    await sv.waitFor((s) => s.get('rotated')?.state === 'RUNNING' && s.get('unrotated')?.state === 'RUNNING', 60_000);
    exp = await Exporter.start({
      config: {
        supervisor: { url: sv.unixUrl },
        thresholds: { services: { rotated: { expect_log_write_within: '2m' }, 'unrotated:unrotated': { expect_log_write_within: '90s' } } },
      },
    });
  });

  after(async () => {
    await exp?.cleanup();
    await sv?.cleanup();
  });

  it("gives supervisor's rotation settings as getAllConfigInfo answers them", async () => {
    const info = (await new SupervisorClient({ ...defaultConfig().supervisor, urls: [sv.unixUrl] }).call('supervisor.getAllConfigInfo')) as Array<Record<string, number | string>>;
    const samples = await exp.scrape();
    let checked = 0;
    for (const c of info) {
      for (const stream of ['stdout', 'stderr']) {
        const l = { group: String(c.group), name: String(c.name), stream };
        assert.equal(value(samples, 'hostaudit_service_log_rotation_max_bytes', l), c[`${stream}_logfile_maxbytes`], JSON.stringify(l));
        assert.equal(value(samples, 'hostaudit_service_log_rotation_backups', l), c[`${stream}_logfile_backups`], JSON.stringify(l));
        checked++;
      }
    }
    assert.equal(checked, 4);
    assert.equal(value(samples, 'hostaudit_service_log_rotation_max_bytes', { name: 'rotated', stream: 'stdout' }), 4096);
    assert.equal(value(samples, 'hostaudit_service_log_rotation_backups', { name: 'rotated', stream: 'stdout' }), 3);
    assert.equal(value(samples, 'hostaudit_service_log_rotation_max_bytes', { name: 'unrotated', stream: 'stdout' }), 0, 'never rotated');
    assert.equal(value(samples, 'hostaudit_service_log_rotation_max_bytes', { name: 'rotated', stream: 'stderr' }), 50 * 1024 * 1024, "supervisor's default");
    // Rotated: backups exist, never more than 3.
    const live = path.join(sv.logDir, 'rotated.out.log');
    assert.ok(existsSync(`${live}.1`) && !existsSync(`${live}.4`));
  });

  it("gives the live log's mtime, following its writes", async () => {
    const live = path.join(sv.logDir, 'rotated.out.log');
    let got: number | undefined;
    let want = 0;
    for (let i = 0; i < 50; i++) {
      want = lstatSync(live).mtimeMs / 1000;
      got = value(await exp.scrape(), 'hostaudit_service_log_last_write_timestamp_seconds', { name: 'rotated', stream: 'stdout' });
      if (got === want && lstatSync(live).mtimeMs / 1000 === want) break;
      await sleep(50);
    }
    assert.equal(got, want);
    // It moves as the service writes (a tick every 0.5 s).
    let later = got as number;
    for (let i = 0; i < 100 && later === got; i++) {
      await sleep(100);
      later = value(await exp.scrape(), 'hostaudit_service_log_last_write_timestamp_seconds', { name: 'rotated', stream: 'stdout' }) as number;
    }
    assert.ok(later > (got as number));
    const quiet = path.join(sv.logDir, 'unrotated.out.log');
    assert.equal(
      value(await exp.scrape(), 'hostaudit_service_log_last_write_timestamp_seconds', { name: 'unrotated', stream: 'stdout' }),
      lstatSync(quiet).mtimeMs / 1000,
    );
  });

  it('gives expect_log_write_within only for the services that have one, by name or group:name', async () => {
    const samples = await exp.scrape();
    assert.equal(value(samples, 'hostaudit_service_expected_log_write_within_seconds', { name: 'rotated' }), 120);
    assert.equal(value(samples, 'hostaudit_service_expected_log_write_within_seconds', { name: 'unrotated' }), 90);
    assert.equal(find(samples, 'hostaudit_service_expected_log_write_within_seconds').length, 2);
  });

  it('asks getAllConfigInfo again when the process list changes', async () => {
    const before = await exp.scrape();
    assert.equal(find(before, 'hostaudit_service_log_rotation_max_bytes', { name: 'added' }).length, 0);
    appendFileSync(
      sv.confFile,
      [
        '[program:added]',
        `command=${PYTHON} ${FIXTURES}/chatter.py 1 3600`,
        `stdout_logfile=${path.join(sv.logDir, 'added.out.log')}`,
        'stdout_logfile_maxbytes=7MB',
        'stdout_logfile_backups=2',
        'startsecs=1',
        '',
      ].join('\n'),
    );
    sv.ctl('update');
    await sv.waitFor((s) => s.get('added')?.state === 'RUNNING', 60_000);
    let got: number | undefined;
    for (let i = 0; i < 50 && got === undefined; i++) {
      got = value(await exp.scrape(), 'hostaudit_service_log_rotation_max_bytes', { name: 'added', stream: 'stdout' });
      if (got === undefined) await sleep(200);
    }
    assert.equal(got, 7 * 1024 * 1024);
    assert.equal(value(await exp.scrape(), 'hostaudit_service_log_rotation_backups', { name: 'added', stream: 'stdout' }), 2);
  });
});

// supervisord builds getAllConfigInfo in Python: seconds of its CPU for thousands of programs.
// A scrape must not wait for it past a moment, and a failed one is not asked again every scrape.
describe('getAllConfigInfo slow or failing', () => {
  let sv: Supervisord;
  let peer: HostileSupervisord;
  let exp: Exporter;
  let dir: string;
  let configAsks = 0;
  const timers = new Set<NodeJS.Timeout>();
  /** Forwards to the real supervisord, but answers getAllConfigInfo with `config` instead. */
  const withConfig = (config: Behaviour): Behaviour => {
    const forward = peer.forward();
    return (c, methods) => {
      if (!methods.includes('supervisor.getAllConfigInfo')) return forward(c, methods);
      configAsks++;
      config(c, methods);
    };
  };

  before(async () => {
    dir = makeTmpDir('hostaudit-config-info-');
    sv = await Supervisord.start({
      programs: [{ name: 'rotated', command: `${PYTHON} ${FIXTURES}/chatter.py 5 3600`, options: { stdout_logfile_maxbytes: '4KB', stdout_logfile_backups: '3' } }],
    });
    await sv.waitFor((s) => s.get('rotated')?.state === 'RUNNING', 60_000);
    peer = await HostileSupervisord.start(path.join(dir, 'peer.sock'), sv.unixUrl.slice('unix://'.length));
  });

  after(async () => {
    for (const t of timers) clearTimeout(t);
    await exp?.cleanup();
    await peer?.close();
    await sv?.cleanup();
    removeTmpDir(dir);
  });

  it('answering after the collector deadline: the scrape goes on without rotation figures, which come with the answer', async () => {
    const forward = peer.forward();
    // Four seconds, twice the collector's deadline: a scrape waiting for it would fail the collector.
    peer.behaviour = withConfig((c, methods) => {
      const t = setTimeout(() => forward(c, methods), 4000);
      timers.add(t);
    });
    exp = await Exporter.start({ config: { supervisor: { url: peer.url, timeout: '10s' }, collector_timeout: '2s' } });
    try {
      await slowAnswer(exp);
    } finally {
      await exp.cleanup();
    }
  });

  async function slowAnswer(exp: Exporter): Promise<void> {
    const first = await exp.scrape();
    assert.equal(value(first, 'hostaudit_collector_success', { collector: 'supervisor' }), 1);
    assert.equal(value(first, 'hostaudit_service_up', { name: 'rotated' }), 1);
    assert.equal(find(first, 'hostaudit_service_log_rotation_max_bytes').length, 0, 'no figure before supervisord answered');
    let got: number | undefined;
    for (let i = 0; i < 100 && got === undefined; i++) {
      await sleep(200);
      const m = await exp.scrape();
      assert.equal(value(m, 'hostaudit_collector_success', { collector: 'supervisor' }), 1);
      got = value(m, 'hostaudit_service_log_rotation_max_bytes', { name: 'rotated', stream: 'stdout' });
    }
    assert.equal(got, 4096);
    assert.equal(configAsks, 1, 'asked once for one process list');
  }

  it('failing: no rotation figures, the failure said once, and not asked again on every scrape', async () => {
    configAsks = 0;
    peer.behaviour = withConfig(answers.fault());
    exp = await Exporter.start({ config: { supervisor: { url: peer.url } } });
    for (let i = 0; i < 5; i++) {
      const m = await exp.scrape();
      assert.equal(value(m, 'hostaudit_collector_success', { collector: 'supervisor' }), 1);
      assert.equal(find(m, 'hostaudit_service_log_rotation_max_bytes').length, 0);
      assert.equal(value(m, 'hostaudit_service_up', { name: 'rotated' }), 1);
    }
    assert.equal(configAsks, 1, 'one ask for one process list within a minute');
    assert.equal(exp.output.match(/getAllConfigInfo failed/g)?.length, 1);
  });
});
