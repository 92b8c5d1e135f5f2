import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RestartTracker } from '../../src/collectors/restart-tracker.js';
import type { SupervisorProcess } from '../../src/sources/supervisor.js';

const proc = (start: number, pid: number, name = 'svc'): SupervisorProcess => ({
  group: name,
  name,
  description: '',
  state: pid > 0 ? 'RUNNING' : 'STOPPED',
  start,
  stop: 0,
  pid,
  exitStatus: 0,
  spawnErr: '',
  stdoutLogfile: '',
  stderrLogfile: '',
});

describe('RestartTracker', () => {
  it('counts starts after the first one seen', () => {
    const t = new RestartTracker();
    t.observe([proc(100, 10)]);
    t.observe([proc(100, 10)]);
    assert.equal(t.restarts(proc(0, 0)), 0);
    t.observe([proc(105, 11)]);
    t.observe([proc(105, 0)]); // exited, not yet restarted
    t.observe([proc(109, 12)]);
    assert.equal(t.restarts(proc(0, 0)), 2);
  });
  it('does not count the first start of a service that was never started', () => {
    const t = new RestartTracker();
    t.observe([proc(0, 0)]);
    t.observe([proc(200, 20)]);
    assert.equal(t.restarts(proc(0, 0)), 0);
    t.observe([proc(210, 21)]);
    assert.equal(t.restarts(proc(0, 0)), 1);
  });
  it('counts a restart within the same second by the new pid', () => {
    const t = new RestartTracker();
    t.observe([proc(300, 30)]);
    t.observe([proc(300, 31)]);
    assert.equal(t.restarts(proc(0, 0)), 1);
  });
  it('forgets programs removed from supervisor', () => {
    const t = new RestartTracker();
    t.observe([proc(1, 1, 'a'), proc(1, 2, 'b')]);
    t.observe([proc(2, 3, 'a'), proc(2, 4, 'b')]);
    t.observe([proc(2, 3, 'a')]);
    assert.equal(t.restarts(proc(0, 0, 'a')), 1);
    assert.equal(t.restarts(proc(0, 0, 'b')), 0);
  });
});
