// The report's number formatting, checked against the audit's own figures.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changePercent, formatBytes, formatChange, formatDurationShort, formatLimitBytes, formatPercent } from '../../src/report/format.js';

describe('report formatting', () => {
  it('formats bytes in decimal units as the audit writes them', () => {
    assert.equal(formatBytes(2.1e9), '2.1GB');
    assert.equal(formatBytes(479e6), '479MB');
    assert.equal(formatBytes(4.2e6), '4.2MB');
    assert.equal(formatBytes(72_000), '72KB');
    assert.equal(formatBytes(999_700_000), '1GB');
    assert.equal(formatBytes(512), '512B');
    assert.equal(formatBytes(0), '0B');
    assert.equal(formatBytes(null), 'n/a');
  });

  it('computes changes as the audit does: 3.8GB → 2.1GB is a 45% reduction', () => {
    assert.equal(formatChange(3.8e9, 2.1e9), '45% reduction');
    assert.equal(formatChange(2.5e9, 479e6), '81% reduction');
    assert.equal(formatChange(86.7, 21.2), '76% reduction');
    assert.equal(formatChange(27.4, 45.9), '+68%');
    assert.equal(formatChange(349e6, 404e6), '+16%');
    assert.equal(formatChange(6.5e6, 6.5e6), 'No change');
    assert.equal(formatChange(86.7, 82.2), '5.2% reduction');
    // new and gone only when the subject is missing on one side; a figure from 0 says so
    assert.equal(formatChange(null, 5, 'new'), 'new');
    assert.equal(formatChange(5, null, 'gone'), 'gone');
    assert.equal(formatChange(null, 5), 'n/a');
    assert.equal(formatChange(5, null), 'n/a');
    assert.equal(formatChange(0, 0.2), 'from 0');
    assert.equal(formatChange(0, 0), 'No change');
    assert.equal(changePercent(3.8e9, 2.1e9), -44.7);
    assert.equal(changePercent(11, 12), 9.1);
    assert.equal(changePercent(0, 12), null);
  });

  it('writes limits as the thresholds are written: binary when round in GiB or MiB', () => {
    assert.equal(formatLimitBytes(1.5 * 2 ** 30), '1.5GiB');
    assert.equal(formatLimitBytes(2 ** 30), '1GiB');
    assert.equal(formatLimitBytes(64 * 2 ** 20), '64MiB');
    assert.equal(formatLimitBytes(3.8e9), '3.8GB');
    assert.equal(formatLimitBytes(100), '100B');
  });

  it('formats CPU percent and durations', () => {
    assert.equal(formatPercent(45.9), '45.9%');
    assert.equal(formatPercent(0), '0.0%');
    assert.equal(formatDurationShort(20 * 60), '20m');
    assert.equal(formatDurationShort(2 * 3600 + 5 * 60), '2h 5m');
    assert.equal(formatDurationShort(3 * 86400 + 4 * 3600), '3d 4h');
    assert.equal(formatDurationShort(40), '40s');
  });
});
