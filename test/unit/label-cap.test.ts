// The label-value length cap: a long value from the host is cut, marked, and still tells two
// long values apart; /metrics stays small however long the value.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FamilyBuilder } from '../../src/collectors/metric-family.js';
import { PROMETHEUS_TEXT, renderBytes } from '../../src/http/exposition.js';
import { capLabelValue, LABEL_VALUE_MAX } from '../../src/http/label-cap.js';
import { parseMetrics } from '../helpers/metrics.js';

describe('label value cap', () => {
  it('keeps values up to the cap as they are', () => {
    const v = 'x'.repeat(LABEL_VALUE_MAX);
    assert.equal(capLabelValue(v), v);
    assert.equal(capLabelValue('kalshi_account_sync'), 'kalshi_account_sync');
  });

  it('cuts longer values to the cap, marks the cut with the length and a hash of the whole', () => {
    const a = 'a'.repeat(5000) + 'one';
    const b = 'a'.repeat(5000) + 'two';
    const ca = capLabelValue(a);
    const cb = capLabelValue(b);
    assert.ok(ca.length <= LABEL_VALUE_MAX);
    assert.match(ca, /^a+…\[cut 5003 chars sha256:[0-9a-f]{12}\]$/);
    assert.notEqual(ca, cb, 'two long values sharing their start stay two series');
    assert.equal(capLabelValue(a), ca, 'the same value is cut the same way every time');
  });

  it('never splits a surrogate pair', () => {
    const v = '😀'.repeat(2000);
    const c = capLabelValue(v);
    assert.ok(c.length <= LABEL_VALUE_MAX);
    // A lone high surrogate would not survive a UTF-8 round trip.
    assert.equal(Buffer.from(c, 'utf8').toString('utf8'), c);
    assert.ok(c.startsWith('😀'));
  });

  it('bounds /metrics: a 10 MB value in 20 series renders a few tens of kB', async () => {
    const name = 'n'.repeat(10 * 1024 * 1024);
    const b = new FamilyBuilder();
    for (let i = 0; i < 20; i++) b.gauge(`hostaudit_test_${i}`, 'test', ['name', 'description'])({ name, description: `d${i}` }, i);
    const body = await renderBytes(b.build(), undefined, PROMETHEUS_TEXT);
    assert.ok(body.length < 30 * 1024, `${body.length} bytes`);
    const samples = parseMetrics(body.toString('utf8'));
    assert.equal(samples.length, 20);
    assert.equal(new Set(samples.map((s) => s.labels.name)).size, 1);
    assert.equal(samples[0]?.labels.description, 'd0');
  });
});
