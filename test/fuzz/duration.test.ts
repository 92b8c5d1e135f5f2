// Fuzz target: Prometheus durations (src/duration.ts) against a reference written from
// Prometheus' own model.ParseDuration (its regular expression; sums in BigInt so nothing rounds):
// the same answer for random text, text made of duration pieces, and mutated real durations;
// formatDuration round-trips; long input stays within its budget.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatDuration, parseDuration } from '../../src/duration.js';
import { fuzzParams } from '../helpers/fuzz.js';

const PROMETHEUS = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const MS = [365n * 86_400_000n, 7n * 86_400_000n, 86_400_000n, 3_600_000n, 60_000n, 1000n, 1n];

function reference(s: string): number | undefined {
  if (s === '0') return 0;
  if (s === '') return undefined;
  const m = PROMETHEUS.exec(s);
  if (!m) return undefined;
  let total = 0n;
  MS.forEach((mult, i) => {
    const g = m[i + 1];
    if (g !== undefined) total += BigInt(g) * mult;
  });
  // Ours stops at 2^53 ms (285,000 years), Prometheus at 2^63 ns (292 years): both refuse past their range.
  return total <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(total) : undefined;
}

const piece = fc.oneof(
  fc.constantFrom('y', 'w', 'd', 'h', 'm', 's', 'ms', 'us', 'µs', 'ns', '0', '00', '.', '-', '+', ' ', 'e3', 'M', 'S'),
  fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String),
  fc.nat({ max: 99 }).map(String),
);
const REAL = ['500ms', '5s', '10m', '1h', '1h30m', '7d', '2w', '1y', '60s', '2s', '24d20h31m23s647ms', '0'];

function check(s: string): void {
  const t0 = process.cpuUsage();
  const got = parseDuration(s);
  const used = process.cpuUsage(t0);
  assert.equal(got, reference(s), JSON.stringify(s.slice(0, 80)));
  if (got !== undefined) assert.ok(Number.isSafeInteger(got) && got >= 0);
  assert.ok(used.user + used.system < 1_000_000, `${used.user + used.system} µs for ${s.length} characters`);
}

describe('fuzz: Prometheus durations', () => {
  it('random text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), check), fuzzParams(3000));
  });

  it('text made of duration pieces', () => {
    fc.assert(fc.property(fc.array(piece, { maxLength: 10 }).map((a) => a.join('')), check), fuzzParams(3000));
  });

  it('mutated real durations', () => {
    const mutated = fc.tuple(fc.constantFrom(...REAL), fc.nat(), fc.nat({ max: 3 }), piece).map(([s, at, del, ins]) => {
      const i = at % (s.length + 1);
      return s.slice(0, i) + ins + s.slice(i + del);
    });
    fc.assert(fc.property(mutated, check), fuzzParams(3000));
  });

  it('formatDuration round-trips every safe number of milliseconds', () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat(), fc.maxSafeNat(), fc.integer({ min: 0, max: 2 ** 31 })), (ms) => {
        assert.equal(parseDuration(formatDuration(ms)), ms);
      }),
      fuzzParams(3000),
    );
  });

  it('long input within its budget', () => {
    for (const s of ['1'.repeat(100_000), '1'.repeat(100_000) + 's', '1s'.repeat(50_000), `${'9'.repeat(400)}ms`, 'ms'.repeat(50_000)]) check(s);
  });
});
