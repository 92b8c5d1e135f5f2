import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, parseDuration } from '../../src/duration.js';

describe('Prometheus durations', () => {
  it('parses every unit and composites in order', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('5s'), 5000);
    assert.equal(parseDuration('10m'), 600_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('7d'), 7 * 86_400_000);
    assert.equal(parseDuration('2w'), 14 * 86_400_000);
    assert.equal(parseDuration('1y'), 365 * 86_400_000);
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('0s'), 0);
  });
  it('rejects malformed text', () => {
    for (const bad of ['', '5', 's', '5x', '1.5s', '-5s', '30m1h', '5s5s', ' 5s', '5 s', '1h 2m']) {
      assert.equal(parseDuration(bad), undefined, bad);
    }
  });
  it('formats back', () => {
    assert.equal(formatDuration(90_000), '1m30s');
    assert.equal(formatDuration(1500), '1s500ms');
    assert.equal(formatDuration(0), '0s');
  });
});
