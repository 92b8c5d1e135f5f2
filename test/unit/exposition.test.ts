// The exposition's own renderer against prom-client's Registry (the reference it replaced):
// byte-identical output for every kind of family, in both formats.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FamilyBuilder } from '../../src/collectors/metric-family.js';
import { OPENMETRICS_TEXT, PROMETHEUS_TEXT, render, renderViaRegistry, SelfMetrics } from '../../src/http/exposition.js';

function families() {
  const b = new FamilyBuilder();
  b.gauge('hostaudit_empty', 'A family with no samples.', ['x']);
  b.gauge('hostaudit_plain', 'No labels.')({}, 1);
  const g = b.gauge('hostaudit_labels', 'Help with a backslash \\ and a\nnewline and "quotes".', ['group', 'name', 'description']);
  g({ group: 'kalshi', name: 'kalshi_account_sync', description: 'pid 4242, uptime 0:20:01' }, 1);
  g({ group: 'we"ird\\name', name: 'line\nbreak', description: "can't find command '/a \"q\" \\\\ p'" }, 0);
  g({ group: 'café ☃', name: '', description: 'trailing\\' }, -0.5);
  // Escapes after a non-ASCII character, and an astral one (a surrogate pair in UTF-16).
  g({ group: 'ü\n"x\\ 𝄞', name: 'a"b', description: '日本\\' }, -3);
  const c = b.counter('hostaudit_service_cpu_seconds_total', 'CPU by mode.', ['group', 'name', 'mode']);
  c({ group: 'a', name: 'a', mode: 'user' }, 12.34);
  c({ group: 'a', name: 'a', mode: 'system' }, 0);
  const big = b.gauge('hostaudit_big', 'Large and small values.', ['k']);
  big({ k: 'a' }, 1e21);
  big({ k: 'b' }, 1.5e-7);
  big({ k: 'c' }, 9007199254740991);
  // Integers are written digit by digit: every length boundary, signs and zeros.
  [0, -0, 9, 10, 99, 100, -1, -10, 123456789, 2 ** 53 + 2, -(2 ** 53) - 2, 0.1, 1e-7, 123.456e5].forEach((v, i) => big({ k: `n${i}` }, v));
  return b.build();
}

describe('exposition renderer', () => {
  const self = new SelfMetrics('1.2.3');
  for (const [label, type] of [['Prometheus text', PROMETHEUS_TEXT], ['OpenMetrics', OPENMETRICS_TEXT]] as const) {
    it(`writes exactly what prom-client's Registry writes (${label})`, async () => {
      const f = families();
      assert.equal(await render(f, undefined, type), await renderViaRegistry(f, undefined, type));
      // With the exporter's own metrics too (their values move between calls: compare shapes).
      const shape = (t: string): string => t.replace(/ [-+0-9.e]+$/gm, ' V').replace(/^nodejs_.*$|^process_.*$/gm, '');
      assert.equal(shape(await render(f, self, type)), shape(await renderViaRegistry(f, self, type)));
    });
  }
});
