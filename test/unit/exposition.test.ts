// The exposition's own renderer against prom-client's Registry (the reference it replaced):
// byte-identical output for every kind of family, in both formats.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FamilyBuilder, type Labels, type MetricFamily } from '../../src/collectors/metric-family.js';
import { BodyRenderer, OPENMETRICS_TEXT, PROMETHEUS_TEXT, render, renderViaRegistry, SelfMetrics } from '../../src/http/exposition.js';
import { capLabelValue } from '../../src/http/label-cap.js';
import { fuzzParams } from '../helpers/fuzz.js';

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

  // A label object serves several families (a service's); its later samples are copied from
  // where the body first wrote it. Bodies of one renderer share those spans.
  const labelValue = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom('', '"', '\\', '\n', 'café ☃', '𝄞\\"', 'worker_0001', 'a\u0000b'),
    fc.string({ unit: 'binary', maxLength: 8 }),
  );
  const labelObject = fc.dictionary(fc.constantFrom('group', 'name', 'state', 'x_y'), labelValue, { maxKeys: 3 });
  const bodies = fc.record({
    pool: fc.array(labelObject, { minLength: 1, maxLength: 8 }),
    // Each body: families of samples picking label objects from the pool; then values of some
    // pool objects are changed before the next body (a new list reuses no span of the last).
    bodies: fc.array(
      fc.record({
        families: fc.array(fc.array(fc.record({ pick: fc.nat(), value: fc.oneof(fc.integer(), fc.double()) }), { maxLength: 6 }), { minLength: 1, maxLength: 5 }),
        changes: fc.array(fc.record({ pick: fc.nat(), value: labelValue }), { maxLength: 2 }),
        om: fc.boolean(),
      }),
      { minLength: 1, maxLength: 4 },
    ),
  });

  it('shared label objects: every body of one renderer equals the reference, in both formats', async () => {
    await fc.assert(
      fc.asyncProperty(bodies, async ({ pool, bodies: list }) => {
        const renderer = new BodyRenderer(undefined);
        for (const body of list) {
          const families: MetricFamily[] = body.families.map((samples, i) => ({
            name: `hostaudit_f${i}`,
            help: 'h',
            type: 'gauge',
            labelNames: [],
            samples: samples.map((s) => ({ labels: pool[s.pick % pool.length] as Labels, value: s.value })),
          }));
          const type = body.om ? OPENMETRICS_TEXT : PROMETHEUS_TEXT;
          const got = (await renderer.once({ families }, type)).toString('utf8');
          assert.equal(got, await renderViaRegistry(families, undefined, type));
          for (const c of body.changes) {
            const l = pool[c.pick % pool.length] as Labels;
            const key = Object.keys(l)[0];
            if (key !== undefined) l[key] = c.value;
          }
        }
      }),
      fuzzParams(300),
    );
  });

  it('a shared label object with a value over the cap is cut once, the same in every family', async () => {
    const long = `${'é'.repeat(3000)}"\\`;
    const l = { name: long, group: 'g' };
    const b = new FamilyBuilder();
    b.gauge('hostaudit_a', 'a', ['name', 'group'])(l, 1);
    b.gauge('hostaudit_b', 'b', ['name', 'group'])(l, 2);
    b.gauge('hostaudit_b2', 'b', ['name', 'group'])({ name: long, group: 'g' }, 3);
    const lines = (await render(b.build(), undefined, PROMETHEUS_TEXT)).split('\n').filter((x) => x.startsWith('hostaudit_'));
    const cut = capLabelValue(long).replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    assert.deepEqual(lines, [`hostaudit_a{name="${cut}",group="g"} 1`, `hostaudit_b{name="${cut}",group="g"} 2`, `hostaudit_b2{name="${cut}",group="g"} 3`]);
  });
});
