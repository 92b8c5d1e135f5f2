// When a scrape may serve supervisord's last process list instead of asking for a new one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listStillCurrent, supervisordAtWork, type KnownList } from '../../src/collectors/process-list-reuse.js';
import { stableDescription } from '../../src/collectors/supervisor.js';
import type { ProcStat } from '../../src/sources/proc-parse.js';
import type { ProcessTable } from '../../src/sources/proc-tree.js';
import type { SupervisorProcess } from '../../src/sources/supervisor.js';

const BOOT = 1_700_000_000;
const HZ = 100;
const SUPERVISORD = 100;

function stat(pid: number, ppid: number, startedAt: number, state = 'S'): ProcStat {
  return { pid, ppid, comm: 'x', state, utime: 0, stime: 0, cutime: 0, cstime: 0, threads: 1, starttime: (startedAt - BOOT) * HZ, vsizeBytes: 0, rssPages: 0, majflt: 0, cmajflt: 0 };
}

function table(stats: ProcStat[]): ProcessTable {
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  const children = new Map<number, number[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s.pid]);
  return { byPid, children };
}

function proc(name: string, state: string, pid: number, start: number): SupervisorProcess {
  return { group: name, name, description: '', state, start, stop: 0, pid, exitStatus: 0, spawnErr: '', stdoutLogfile: '', stderrLogfile: '' };
}

const T = BOOT + 5000;
const list: KnownList = {
  pid: SUPERVISORD,
  processes: [proc('a', 'RUNNING', 201, T), proc('b', 'RUNNING', 202, T + 10), proc('c', 'STOPPED', 0, 0), proc('d', 'FATAL', 0, 0)],
};
const base = [stat(1, 0, BOOT), stat(SUPERVISORD, 1, BOOT + 10), stat(201, SUPERVISORD, T), stat(202, SUPERVISORD, T + 10), stat(301, 201, T + 20)];

describe('process list reuse', () => {
  it('holds while /proc shows exactly the RUNNING processes under supervisord', () => {
    assert.ok(listStillCurrent(list, table(base), BOOT, HZ));
    // A child of a service (a grandchild of supervisord) is no change in supervisord's list.
    assert.ok(listStillCurrent(list, table([...base, stat(302, 202, T + 30)]), BOOT, HZ));
  });

  it('ends when a RUNNING process is gone, a zombie, or re-parented', () => {
    assert.ok(!listStillCurrent(list, table(base.filter((s) => s.pid !== 202)), BOOT, HZ));
    assert.ok(!listStillCurrent(list, table(base.map((s) => (s.pid === 202 ? stat(202, SUPERVISORD, T + 10, 'Z') : s))), BOOT, HZ));
    assert.ok(!listStillCurrent(list, table(base.map((s) => (s.pid === 202 ? stat(202, 1, T + 10) : s))), BOOT, HZ));
  });

  it('ends when a pid was reused by a process started at another time', () => {
    assert.ok(!listStillCurrent(list, table(base.map((s) => (s.pid === 202 ? stat(202, SUPERVISORD, T + 100) : s))), BOOT, HZ));
    // Whole-second clocks on both sides: a second or two apart is the same process.
    assert.ok(listStillCurrent(list, table(base.map((s) => (s.pid === 202 ? stat(202, SUPERVISORD, T + 12) : s))), BOOT, HZ));
  });

  it('ends when supervisord has a child the list does not know (a start under way)', () => {
    assert.ok(!listStillCurrent(list, table([...base, stat(203, SUPERVISORD, T + 40)]), BOOT, HZ));
    assert.ok(!listStillCurrent(list, table([...base, stat(203, SUPERVISORD, T + 40, 'Z')]), BOOT, HZ));
  });

  it('never holds while a process is in a passing state, or for another supervisord', () => {
    for (const passing of ['STARTING', 'BACKOFF', 'STOPPING', 'UNKNOWN']) {
      const l = { ...list, processes: list.processes.map((p) => (p.name === 'c' ? { ...p, state: passing } : p)) };
      assert.ok(!listStillCurrent(l, table(base), BOOT, HZ), passing);
    }
    assert.ok(!listStillCurrent({ ...list, pid: 999 }, table(base), BOOT, HZ));
    assert.ok(!listStillCurrent(list, table(base.map((s) => (s.pid === SUPERVISORD ? stat(SUPERVISORD, 1, BOOT + 10, 'Z') : s))), BOOT, HZ));
  });

  it('never holds for a list saying a stopped process has a pid', () => {
    const l = { ...list, processes: [...list.processes.slice(0, 2), proc('c', 'EXITED', 999, T)] };
    assert.ok(!listStillCurrent(l, table(base), BOOT, HZ));
  });
});

describe('service description label', () => {
  it("drops a RUNNING process's ticking uptime and keeps every other description", () => {
    assert.equal(stableDescription('pid 1234, uptime 0:05:12'), 'pid 1234');
    assert.equal(stableDescription('pid 1234, uptime 3 days, 2:03:04'), 'pid 1234');
    assert.equal(stableDescription('Exited too quickly (process log may have details)'), 'Exited too quickly (process log may have details)');
    assert.equal(stableDescription('Not started'), 'Not started');
    assert.equal(stableDescription('Dec 01 07:50 AM'), 'Dec 01 07:50 AM');
  });
});

describe('supervisordAtWork', () => {
  it('running or sleeping (writing an answer, or waiting on the socket): at work', () => {
    for (const state of ['R', 'S', 'D']) assert.equal(supervisordAtWork(table([stat(SUPERVISORD, 1, T, state)]), SUPERVISORD), true, state);
  });
  it('stopped, traced, a zombie, dead or gone: not', () => {
    for (const state of ['T', 't', 'Z', 'X']) assert.equal(supervisordAtWork(table([stat(SUPERVISORD, 1, T, state)]), SUPERVISORD), false, state);
    assert.equal(supervisordAtWork(table([stat(SUPERVISORD + 1, 1, T)]), SUPERVISORD), false);
  });
});
