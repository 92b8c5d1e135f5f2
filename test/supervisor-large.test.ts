// A supervisord of more than 100 processes, where a scrape serves supervisord's last process
// list while /proc shows no process started or ended under it: every change made through
// supervisorctl, and a crash, must still show on the very next scrape, as supervisorctl says.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Exporter } from './helpers/exporter.js';
import { HostileSupervisord } from './helpers/hostile-supervisord.js';
import { find, value, type ParsedSample } from './helpers/metrics.js';
import { sleep, Supervisord } from './helpers/supervisord.js';

const WORKERS = 110;

/** Every process's current state in a scrape, keyed as supervisorctl names them. */
function states(m: ParsedSample[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of find(m, 'hostaudit_service_state')) {
    if (s.value !== 1) continue;
    const { group, name, state } = s.labels as { group: string; name: string; state: string };
    out.set(group === name ? name : `${group}:${name}`, state);
  }
  return out;
}

function ctlStates(sv: Supervisord): Map<string, string> {
  return new Map([...sv.status()].map(([k, v]) => [k, v.state]));
}

describe('a large supervisord: the process list is reused only while nothing changed', () => {
  let sv: Supervisord;
  let exp: Exporter;

  before(async () => {
    sv = await Supervisord.start({
      programs: [
        { name: 'worker', command: '/bin/sleep 3600', options: { numprocs: String(WORKERS), startsecs: '0', autorestart: 'true' } },
        { name: 'late', command: '/bin/sleep 3600', options: { autostart: 'false', startsecs: '0' } },
      ],
    });
    await sv.waitFor((s) => s.size === WORKERS + 1 && [...s].filter(([, v]) => v.state === 'RUNNING').length === WORKERS, 60_000);
    exp = await Exporter.start({ config: { supervisor: { url: sv.unixUrl, poll_interval: '500ms' } } });
  });

  after(async () => {
    await exp?.cleanup();
    await sv?.cleanup();
  });

  it('serves the last list (its age above 0) and still asks supervisord every scrape', async () => {
    let reused: ParsedSample[] | undefined;
    for (let i = 0; i < 10 && !reused; i++) {
      const m = await exp.scrape();
      if ((value(m, 'hostaudit_supervisor_process_list_age_seconds') ?? 0) > 0) reused = m;
      else await sleep(300);
    }
    assert.ok(reused, 'a scrape reused the process list');
    assert.equal(value(reused, 'hostaudit_supervisor_up'), 1);
    assert.deepEqual(states(reused), ctlStates(sv));
    // RUNNING descriptions are "pid N" (the uptime is cut), and N is supervisorctl's pid.
    const ctl = sv.status();
    const info = find(reused, 'hostaudit_service_info', { name: 'worker_07' })[0];
    assert.equal(info?.labels.description, `pid ${ctl.get('worker:worker_07')?.pid}`);
  });

  it('shows a stop on the next scrape', async () => {
    const asked = Date.now();
    sv.ctl('stop', 'worker:worker_05'); // returns once the process has stopped
    const m = await exp.scrape();
    const scraped = Date.now();
    assert.equal(value(m, 'hostaudit_service_state', { name: 'worker_05', state: 'STOPPED' }), 1);
    assert.equal(value(m, 'hostaudit_service_up', { name: 'worker_05' }), 0);
    // The list served was asked of supervisord after the stop was asked for: by this scrape
    // (age 0) or by the background poll that ran meanwhile (under load its list was once
    // 0.054 s old), never one from before. That it shows the stop done is checked above and below.
    const age = value(m, 'hostaudit_supervisor_process_list_age_seconds');
    assert.ok(age !== undefined && age >= 0);
    assert.ok(age * 1000 <= scraped - asked, `a list ${age} s old, the stop asked for ${scraped - asked} ms ago`);
    assert.deepEqual(states(m), ctlStates(sv));
  });

  it('shows a start on the next scrape', async () => {
    sv.ctl('start', 'late');
    const m = await exp.scrape();
    assert.equal(value(m, 'hostaudit_service_state', { name: 'late', state: 'RUNNING' }), 1);
    assert.equal(value(m, 'hostaudit_service_processes', { name: 'late' }), 1);
    assert.deepEqual(states(m), ctlStates(sv));
  });

  it('shows a crash and its restart, counted once, with the new start time', async () => {
    const before = sv.status().get('worker:worker_10');
    assert.ok(before?.pid);
    const m0 = await exp.scrape();
    const start0 = value(m0, 'hostaudit_service_start_time_seconds', { name: 'worker_10' }) ?? 0;
    process.kill(before.pid, 'SIGKILL');
    await sv.waitFor((s) => s.get('worker:worker_10')?.state === 'RUNNING' && s.get('worker:worker_10')?.pid !== before.pid);
    const m = await exp.scrape();
    assert.equal(value(m, 'hostaudit_service_restarts_total', { name: 'worker_10' }), 1);
    assert.ok((value(m, 'hostaudit_service_start_time_seconds', { name: 'worker_10' }) ?? 0) >= start0);
    const info = find(m, 'hostaudit_service_info', { name: 'worker_10' })[0];
    assert.equal(info?.labels.description, `pid ${sv.status().get('worker:worker_10')?.pid}`);
    assert.deepEqual(states(m), ctlStates(sv));
  });

  it('reuses again once things are quiet, and every figure still matches supervisorctl', async () => {
    let m: ParsedSample[] = [];
    for (let i = 0; i < 10; i++) {
      m = await exp.scrape();
      if ((value(m, 'hostaudit_supervisor_process_list_age_seconds') ?? 0) > 0) break;
      await sleep(300);
    }
    assert.ok((value(m, 'hostaudit_supervisor_process_list_age_seconds') ?? 0) > 0);
    assert.deepEqual(states(m), ctlStates(sv));
    assert.equal(find(m, 'hostaudit_service_up').filter((s) => s.value === 1).length, WORKERS); // 109 workers + late
  });
});

/** A real supervisord of WORKERS sleepers, all RUNNING, and a peer at `socket` forwarding to it. */
async function workersBehindPeer(socket: string): Promise<{ sv: Supervisord; peer: HostileSupervisord }> {
  const sv = await Supervisord.start({
    programs: [{ name: 'worker', command: '/bin/sleep 3600', options: { numprocs: String(WORKERS), startsecs: '0', autorestart: 'true' } }],
  });
  try {
    await sv.waitFor((s) => [...s].filter(([, v]) => v.state === 'RUNNING').length === WORKERS, 60_000);
    return { sv, peer: await HostileSupervisord.start(socket, sv.socket) };
  } catch (err) {
    await sv.cleanup();
    throw err;
  }
}

// supervisord writes a list of thousands of processes in seconds of its own CPU, past
// supervisor.timeout (2,000 processes: over 5 s on the bench VM). Here a real supervisord's
// list answers come 1.8 s late through a forwarder, against a 1 s supervisor.timeout.
describe('a supervisord that lists slower than supervisor.timeout', () => {
  const LIST_DELAY_MS = 1800;
  let sv: Supervisord;
  let slow: HostileSupervisord;
  let exp: Exporter;
  let dir: string;
  let listsInFlight = 0;
  let mostInFlight = 0;
  let lists = 0;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hostaudit-slow-list-'));
    ({ sv, peer: slow } = await workersBehindPeer(path.join(dir, 'slow.sock')));
    const forward = slow.forward();
    slow.behaviour = (client, methods) => {
      if (!methods.includes('supervisor.getAllProcessInfo')) return forward(client, methods);
      lists++;
      mostInFlight = Math.max(mostInFlight, ++listsInFlight);
      client.once('close', () => listsInFlight--);
      setTimeout(() => forward(client, methods), LIST_DELAY_MS);
    };
    exp = await Exporter.start({ config: { supervisor: { url: slow.url, timeout: '1s', poll_interval: '300ms' } } });
  });

  after(async () => {
    await exp?.cleanup();
    await slow?.close();
    await sv?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is still heard: the list is awaited in the background, shared, and served once it comes', async () => {
    // At first no list has come: a scrape waits supervisor.timeout and says so.
    const first = await exp.scrape();
    if (value(first, 'hostaudit_supervisor_up') === 0) assert.match(exp.output, /supervisord did not answer" failure=timeout/);
    let m: ParsedSample[] = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      m = await exp.scrape();
      if (value(m, 'hostaudit_supervisor_up') === 1) break;
      await sleep(200);
    }
    assert.equal(value(m, 'hostaudit_supervisor_up'), 1, 'a list slower than supervisor.timeout was heard');
    assert.deepEqual(states(m), ctlStates(sv));
    assert.equal(mostInFlight, 1, 'never a second list asked while one was being written');
    // Quiet from then on: the poll checks /proc, scrapes ask supervisord only its head and
    // serve the list the background poll holds.
    const listsThen = lists;
    for (let i = 0; i < 5; i++) {
      const q = await exp.scrape();
      assert.equal(value(q, 'hostaudit_supervisor_up'), 1);
      assert.ok((value(q, 'hostaudit_supervisor_process_list_age_seconds') ?? 0) > 0, 'served from the list held');
      await sleep(300);
    }
    assert.equal(lists, listsThen, 'no list asked while nothing changed');
  });
});

// supervisord answers one call at a time: while it writes a long list, every other call waits
// behind it. The forwarder here does the same, and holds the poll's list (the one that renews
// a quiet list, quietMaxMs after the last) until the test lets it go.
describe('a supervisord busy writing the poll list', () => {
  let sv: Supervisord;
  let peer: HostileSupervisord;
  let exp: Exporter;
  let dir: string;
  let lists = 0;
  let held: Array<() => void> | undefined;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hostaudit-busy-list-'));
    ({ sv, peer } = await workersBehindPeer(path.join(dir, 'busy.sock')));
    const forward = peer.forward();
    peer.behaviour = (client, methods) => {
      if (held) {
        held.push(() => forward(client, methods)); // behind the list being written
        return;
      }
      if (methods.includes('supervisor.getAllProcessInfo') && ++lists === 2) {
        held = [() => forward(client, methods)];
        return;
      }
      forward(client, methods);
    };
    exp = await Exporter.start({ config: { supervisor: { url: peer.url, timeout: '4s', poll_interval: '300ms' } } });
  });

  function release(): void {
    const calls = held ?? [];
    held = undefined;
    for (const c of calls) c();
  }

  after(async () => {
    if (sv?.pid) process.kill(sv.pid, 'SIGCONT');
    release();
    await exp?.cleanup();
    await peer?.close();
    await sv?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes serve the list held while supervisord is at work on the next, not while it is stopped', async () => {
    const m0 = await exp.scrape();
    assert.equal(value(m0, 'hostaudit_supervisor_up'), 1);
    // The poll renews the quiet list after 30 s (quietMaxMs): that list is held.
    const deadline = Date.now() + 60_000;
    while (!held && Date.now() < deadline) await sleep(50);
    assert.ok(held, 'the poll asked for a new list');
    const m = await exp.scrape();
    assert.ok(held, 'the scrape came back while the list was still being written');
    assert.equal(value(m, 'hostaudit_supervisor_up'), 1);
    assert.ok((value(m, 'hostaudit_supervisor_process_list_age_seconds') ?? 0) > 0, 'served from the list held');
    assert.deepEqual(states(m), ctlStates(sv));
    // A stopped supervisord is not at work on anything: the scrape asks it and hears nothing.
    process.kill(sv.pid as number, 'SIGSTOP');
    const stopped = await exp.scrape();
    assert.equal(value(stopped, 'hostaudit_supervisor_up'), 0);
    process.kill(sv.pid as number, 'SIGCONT');
    release();
    let back: ParsedSample[] = [];
    for (let i = 0; i < 50; i++) {
      back = await exp.scrape();
      if (value(back, 'hostaudit_supervisor_up') === 1) break;
      await sleep(200);
    }
    assert.equal(value(back, 'hostaudit_supervisor_up'), 1);
    assert.deepEqual(states(back), ctlStates(sv));
  });
});
