// How often the background poll asks supervisord for its whole process list while nothing
// seems to change: every 30 s, or less often when listing costs supervisord more.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quietMaxMs } from '../../src/collectors/supervisor.js';

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
