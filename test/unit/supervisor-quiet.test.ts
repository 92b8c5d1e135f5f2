// How often the background poll asks supervisord for its whole process list while nothing
// seems to change: every 30 s, or less often when listing costs supervisord more.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quietMaxMs } from '../../src/collectors/supervisor.js';
import { listExpectedMs, listTimeoutMs } from '../../src/sources/supervisor.js';

describe('quietMaxMs', () => {
  it('asks every 30 s while a list comes within 150 ms (a dozen to hundreds of programs)', () => {
    assert.equal(quietMaxMs(0), 30_000);
    assert.equal(quietMaxMs(3), 30_000);
    assert.equal(quietMaxMs(144), 30_000);
  });
  it('keeps listing to 1/200 of the time beyond that (0.5 % of a core)', () => {
    assert.equal(quietMaxMs(151), 30_200);
    assert.equal(quietMaxMs(1_800), 360_000);
  });
  it('asks at least every 10 minutes however slow the list', () => {
    assert.equal(quietMaxMs(3_000), 600_000);
    assert.equal(quietMaxMs(60_000), 600_000);
  });
});

describe('listTimeoutMs', () => {
  it('waits supervisor.timeout for a first list, and twice what the last one took after that', () => {
    assert.equal(listTimeoutMs(5_000, 0, 0), 5_000);
    assert.equal(listTimeoutMs(5_000, 40, 0), 5_000);
    assert.equal(listTimeoutMs(5_000, 6_200, 0), 12_400);
  });
  it('doubles after each of two lists in a row that ran out of time, then stays', () => {
    assert.equal(listTimeoutMs(5_000, 0, 1), 10_000);
    assert.equal(listTimeoutMs(5_000, 0, 2), 20_000);
    assert.equal(listTimeoutMs(5_000, 0, 9), 20_000);
    assert.equal(listTimeoutMs(1_000, 0, 3), 4_000);
  });
  it('expects a list within twice what the last took, at least supervisor.timeout', () => {
    assert.equal(listExpectedMs(5_000, 0), 5_000);
    assert.equal(listExpectedMs(5_000, 2_600), 5_200);
    assert.equal(listExpectedMs(1_000, 40), 1_000);
  });
  it('never past a minute, unless supervisor.timeout itself is longer', () => {
    assert.equal(listTimeoutMs(5_000, 40_000, 2), 60_000);
    assert.equal(listTimeoutMs(90_000, 0, 2), 90_000);
  });
});
