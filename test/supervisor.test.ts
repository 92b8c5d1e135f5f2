// The supervisor collector against a real supervisord: states, labels, restarts, and process
// tree CPU/memory/fds/TCP compared with what /proc and supervisorctl say.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Exporter } from './helpers/exporter.js';
import { find, value, type ParsedSample } from './helpers/metrics.js';
import { programs, sleep, Supervisord } from './helpers/supervisord.js';
import { timeWaitSockets } from './helpers/time-wait.js';

const STATES = ['STOPPED', 'STARTING', 'RUNNING', 'BACKOFF', 'STOPPING', 'EXITED', 'FATAL', 'UNKNOWN'];
const TICKS = 100; // USER_HZ on Linux

function procTreeCpuSeconds(root: number): number {
  const all = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  const stats = new Map<number, { ppid: number; cpu: number }>();
  for (const e of all) {
    try {
      const t = readFileSync(`/proc/${e}/stat`, 'latin1');
      const f = t.slice(t.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(e), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICKS });
    } catch {
      // gone
    }
  }
  let total = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop() as number;
    total += stats.get(pid)?.cpu ?? 0;
    for (const [p, s] of stats) if (s.ppid === pid) stack.push(p);
  }
  return total;
}

function vmRssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]) * 1024;
}

describe('supervisor collector with a real supervisord', () => {
  let sv: Supervisord;
  let exp: Exporter;
  let tcpServer: net.Server;
  let tcpPort: number;
  const tcpSockets: net.Socket[] = [];

  before(async () => {
    tcpServer = net.createServer((s) => tcpSockets.push(s));
    await new Promise<void>((r) => tcpServer.listen(0, '127.0.0.1', r));
    tcpPort = (tcpServer.address() as net.AddressInfo).port;
    sv = await Supervisord.start({
      programs: [
        { name: 'kalshi_account_sync', command: programs.burn(0.5) },
        { name: 'forker', command: programs.burn(0.25, 0.25) },
        { name: 'memhog', command: programs.holdMemory(96) },
        // startsecs 10: any exit within 10 s is "too quick", however slowly python starts on a busy machine
        { name: 'crasher', command: programs.exitAfter(0, 3), options: { startretries: '1', startsecs: '10' } },
        { name: 'flapper', command: programs.exitAfter(1.5, 1), options: { autorestart: 'true', startsecs: '1' } },
        { name: 'manual', command: programs.sleep(), options: { autostart: 'false' } },
        { name: 'exiter', command: programs.exitAfter(1.5, 3), options: { startsecs: '1' } },
        { name: 'pool', command: programs.sleep(), options: { numprocs: '2' } },
        { name: 'netholder', command: programs.sleep(tcpPort, 3) },
      ],
      groups: { kalshi: ['kalshi_account_sync'] },
    });
    exp = await Exporter.start({ config: { supervisor: { url: sv.unixUrl, poll_interval: '500ms' } } });
    await sv.waitFor((s) => s.get('crasher')?.state === 'FATAL' && s.get('exiter')?.state === 'EXITED' && s.get('memhog')?.state === 'RUNNING' && s.get('netholder')?.state === 'RUNNING');
    await sleep(1500); // memhog has touched its pages; netholder has connected
  });

  after(async () => {
    await exp?.cleanup();
    await sv?.cleanup();
    for (const s of tcpSockets) s.destroy();
    tcpServer?.close();
  });

  it('reports supervisord up with version and identification', async () => {
    const m = await exp.scrape();
    assert.equal(value(m, 'hostaudit_supervisor_up'), 1);
    const info = find(m, 'hostaudit_supervisor_info');
    assert.equal(info.length, 1);
    assert.match(info[0]?.labels.version ?? '', /^\d+\.\d+/);
    assert.equal(info[0]?.labels.identification, `test-${path.basename(sv.dir)}`);
    assert.equal(value(m, 'hostaudit_collector_success', { collector: 'supervisor' }), 1);
    // Ten processes: supervisord lists them for every scrape, none is served from an earlier list.
    for (let i = 0; i < 3; i++) assert.equal(value(await exp.scrape(), 'hostaudit_supervisor_process_list_age_seconds'), 0);
  });

  it('labels every process with supervisor group and name, and matches supervisorctl state', async () => {
    const status = sv.status();
    const m = await exp.scrape();
    const infos = find(m, 'hostaudit_service_info');
    const seen = infos.map((s) => `${s.labels.group}:${s.labels.name}`).sort();
    assert.deepEqual(seen, [
      'crasher:crasher',
      'exiter:exiter',
      'flapper:flapper',
      'forker:forker',
      'kalshi:kalshi_account_sync',
      'manual:manual',
      'memhog:memhog',
      'netholder:netholder',
      'pool:pool_00',
      'pool:pool_01',
    ]);
    for (const s of infos) {
      const { group, name } = s.labels as { group: string; name: string };
      const key = group === name ? name : `${group}:${name}`;
      const expected = status.get(key)?.state;
      if (name === 'flapper') continue; // changes state every second; checked separately
      const states = find(m, 'hostaudit_service_state', { group, name });
      assert.equal(states.length, 8, `${key}: eight states`);
      assert.deepEqual(states.map((x) => x.labels.state).sort(), [...STATES].sort());
      assert.deepEqual(
        states.filter((x) => x.value === 1).map((x) => x.labels.state),
        [expected],
        `${key} state`,
      );
      assert.equal(value(m, 'hostaudit_service_up', { group, name }), expected === 'RUNNING' ? 1 : 0);
    }
    assert.equal(value(m, 'hostaudit_service_state', { name: 'crasher', state: 'FATAL' }), 1);
    assert.equal(value(m, 'hostaudit_service_state', { name: 'manual', state: 'STOPPED' }), 1);
    // supervisor reports 0 for a process that died before startsecs (it never "exited" RUNNING)
    assert.equal(value(m, 'hostaudit_service_exit_status', { name: 'crasher' }), 0);
    assert.equal(value(m, 'hostaudit_service_state', { name: 'exiter', state: 'EXITED' }), 1);
    assert.equal(value(m, 'hostaudit_service_exit_status', { name: 'exiter' }), 3);
  });

  it('gives start time from supervisor', async () => {
    const m = await exp.scrape();
    const pid = sv.status().get('memhog')?.pid as number;
    const startTicks = Number(readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]?.split(' ')[19]);
    const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const procStart = Date.now() / 1000 - uptime + startTicks / TICKS;
    const reported = value(m, 'hostaudit_service_start_time_seconds', { name: 'memhog' }) as number;
    assert.ok(Math.abs(reported - procStart) < 3, `start ${reported} vs /proc ${procStart}`);
    assert.equal(value(m, 'hostaudit_service_start_time_seconds', { name: 'manual' }), undefined);
  });

  it('counts CPU of the whole process tree, children included', async () => {
    // Judged against /proc over the same window, not against the share asked for, so a busy
    // machine (which starves the burners) cannot make it pass or fail by accident.
    const pid = sv.status().get('forker')?.pid as number;
    const cpu = (m: ParsedSample[], name: string): number =>
      (value(m, 'hostaudit_service_cpu_seconds_total', { name, mode: 'user' }) ?? NaN) +
      (value(m, 'hostaudit_service_cpu_seconds_total', { name, mode: 'system' }) ?? NaN);
    const parentOnly = (): number => {
      const f = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]?.split(' ') ?? [];
      return (Number(f[11]) + Number(f[12])) / TICKS;
    };
    const m1 = await exp.scrape();
    const tree1 = procTreeCpuSeconds(pid);
    const parent1 = parentOnly();
    await sleep(4000);
    const m2 = await exp.scrape();
    const tree2 = procTreeCpuSeconds(pid);
    const parent2 = parentOnly();
    const exported = cpu(m2, 'forker') - cpu(m1, 'forker');
    const tree = tree2 - tree1;
    const child = tree - (parent2 - parent1);
    assert.ok(child > 0.1, `the child burned ${child} s in the window`);
    assert.ok(Math.abs(exported - tree) < 0.15 * tree + 0.1, `exported ${exported} s vs /proc tree ${tree} s`);
    assert.ok(exported > parent2 - parent1 + 0.8 * child, `exported ${exported} s includes the child's ${child} s`);
    assert.ok(Math.abs(cpu(m2, 'forker') - tree2) < 0.3, `counter ${cpu(m2, 'forker')} vs /proc ${tree2}`);
    assert.equal(value(m2, 'hostaudit_service_processes', { name: 'forker' }), 2);
    const kpid = sv.status().get('kalshi:kalshi_account_sync')?.pid as number;
    assert.ok(Math.abs(cpu(m2, 'kalshi_account_sync') - procTreeCpuSeconds(kpid)) < 0.3);
    assert.ok(cpu(m2, 'kalshi_account_sync') - cpu(m1, 'kalshi_account_sync') > 0.1, 'the burner burned');
  });

  it('reports resident memory, open fds and TCP connections as /proc does', async () => {
    const m = await exp.scrape();
    const pid = sv.status().get('memhog')?.pid as number;
    const rss = value(m, 'hostaudit_service_resident_memory_bytes', { name: 'memhog' }) as number;
    assert.ok(rss > 96 * 2 ** 20, `memhog RSS ${rss}`);
    assert.ok(Math.abs(rss - vmRssBytes(pid)) / rss < 0.05, `RSS ${rss} vs VmRSS ${vmRssBytes(pid)}`);
    assert.ok((value(m, 'hostaudit_service_virtual_memory_bytes', { name: 'memhog' }) as number) >= rss);
    const npid = sv.status().get('netholder')?.pid as number;
    assert.equal(value(m, 'hostaudit_service_open_fds', { name: 'netholder' }), readdirSync(`/proc/${npid}/fd`).length);
    assert.equal(value(m, 'hostaudit_service_tcp_connections', { name: 'netholder' }), 3);
    assert.equal(value(m, 'hostaudit_service_tcp_connections', { name: 'memhog' }), 0);
    assert.equal(value(m, 'hostaudit_service_processes', { name: 'manual' }), 0);
    assert.equal(find(m, 'hostaudit_service_cpu_seconds_total', { name: 'manual' }).length, 0);
  });

  it('reports log bytes of stdout and stderr files', async () => {
    const m = await exp.scrape();
    const out = path.join(sv.logDir, 'crasher.out.log');
    assert.equal(value(m, 'hostaudit_service_log_bytes', { name: 'crasher', stream: 'stdout' }), readFileSync(out).length);
    assert.ok(readFileSync(out).length > 0);
  });

  it('counts restarts of a flapping service', async () => {
    const r1 = value(await exp.scrape(), 'hostaudit_service_restarts_total', { name: 'flapper' }) as number;
    await sleep(9000);
    const r2 = value(await exp.scrape(), 'hostaudit_service_restarts_total', { name: 'flapper' }) as number;
    assert.ok(r2 >= r1 + 2, `restarts ${r1} → ${r2}`);
    const log = readFileSync(path.join(sv.dir, 'supervisord.log'), 'utf8');
    const spawned = (log.match(/spawned: 'flapper'/g) ?? []).length;
    assert.ok(r2 <= spawned - 1, `restarts ${r2} cannot exceed supervisord's spawns after the first (${spawned - 1})`);
    assert.equal(value(await exp.scrape(), 'hostaudit_service_restarts_total', { name: 'memhog' }), 0);
  });

  it('serves supervisor_up 0 and no service series while supervisord is down, then recovers', async () => {
    await sv.stop();
    const t0 = Date.now();
    const res = await exp.get('/metrics');
    const elapsed = Date.now() - t0;
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.ok(elapsed < 3000, `scrape took ${elapsed} ms with supervisord down`);
    assert.match(text, /^hostaudit_supervisor_up 0$/m);
    assert.doesNotMatch(text, /^hostaudit_service_/m);
    await sv.launch();
    await sv.waitFor((s) => s.get('memhog')?.state === 'RUNNING');
    const m = await exp.scrape();
    assert.equal(value(m, 'hostaudit_supervisor_up'), 1);
    assert.equal(value(m, 'hostaudit_service_up', { name: 'memhog' }), 1);
  });
});

describe('supervisor over inet_http_server with a password', () => {
  const password = 'S3cr3t-hunter2-xyz';
  let sv: Supervisord;

  before(async () => {
    sv = await Supervisord.start({
      programs: [{ name: 'svc', command: programs.sleep() }],
      inet: { username: 'auditor', password },
    });
    await sv.waitFor((s) => s.get('svc')?.state === 'RUNNING');
  });
  after(async () => {
    await sv?.cleanup();
  });

  it('authenticates with password_file and never shows the password', async () => {
    const pf = path.join(sv.dir, 'pass');
    writeFileSync(pf, password + '\n', { mode: 0o600 });
    const exp = await Exporter.start({
      config: { supervisor: { url: sv.httpUrl, username: 'auditor', password_file: pf, timeout: '2s' } },
    });
    try {
      const text = await exp.metricsText();
      assert.match(text, /^hostaudit_supervisor_up 1$/m);
      assert.match(text, /^hostaudit_service_up\{group="svc",name="svc"\} 1$/m);
      assert.ok(!text.includes(password));
    } finally {
      await exp.stop();
      assert.ok(!exp.output.includes(password), 'password in exporter output');
      await exp.cleanup();
    }
  });

  it('authenticates with HOSTAUDIT_SUPERVISOR_PASSWORD', async () => {
    const exp = await Exporter.start({
      config: { supervisor: { url: sv.httpUrl, username: 'auditor' } },
      env: { HOSTAUDIT_SUPERVISOR_PASSWORD: password },
    });
    try {
      const text = await exp.metricsText();
      assert.match(text, /^hostaudit_supervisor_up 1$/m);
      assert.ok(!text.includes(password));
    } finally {
      await exp.cleanup();
      assert.ok(!exp.output.includes(password));
    }
  });

  it('leaves no TIME_WAIT socket on the host per call (close-with-reset.ts)', async () => {
    const exp = await Exporter.start({
      config: { supervisor: { url: sv.httpUrl, username: 'auditor' } },
      env: { HOSTAUDIT_SUPERVISOR_PASSWORD: password },
    });
    try {
      for (let i = 0; i < 5; i++) assert.match(await exp.metricsText(), /^hostaudit_supervisor_up 1$/m);
      await sleep(200);
      assert.equal(timeWaitSockets(sv.inetPort as number), 0);
    } finally {
      await exp.cleanup();
    }
  });

  it('reports supervisor_up 0 with a wrong password and says why in the log', async () => {
    const exp = await Exporter.start({
      config: { supervisor: { url: sv.httpUrl, username: 'auditor' } },
      env: { HOSTAUDIT_SUPERVISOR_PASSWORD: 'wrong-password-123' },
    });
    try {
      const text = await exp.metricsText();
      assert.match(text, /^hostaudit_supervisor_up 0$/m);
      assert.doesNotMatch(text, /^hostaudit_service_/m);
      await sleep(200);
      assert.match(exp.output, /401/);
      assert.ok(!exp.output.includes('wrong-password-123'));
    } finally {
      await exp.cleanup();
    }
  });
});
