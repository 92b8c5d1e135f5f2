// The paths collector's states: nothing before the first walk, figures after refresh(), a
// missing root, and stop() while a walk runs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PathsCollector, planScans } from '../../src/collectors/paths.js';
import type { MetricFamily } from '../../src/collectors/metric-family.js';
import { silentLogger } from '../../src/log.js';
import { makeTmpDir, removeTmpDir } from '../helpers/tmp.js';

const ctx = { signal: new AbortController().signal, log: silentLogger };

function samples(fams: MetricFamily[], name: string): MetricFamily['samples'] {
  return fams.find((f) => f.name === name)?.samples ?? [];
}

describe('PathsCollector', () => {
  let dir: string;
  before(() => {
    dir = makeTmpDir('hostaudit-pathsc-');
    mkdirSync(path.join(dir, 'tree', 'sub'), { recursive: true });
    writeFileSync(path.join(dir, 'tree', 'sub', 'a.log'), 'x'.repeat(5000));
    writeFileSync(path.join(dir, 'tree', 'b.log'), 'y'.repeat(300));
  });
  after(() => removeTmpDir(dir));

  it('serves no path series before the first walk, then the walk, labelled by name and path', async () => {
    const tree = path.join(dir, 'tree');
    const c = new PathsCollector(
      [
        { name: 'logs', path: tree, modifiedWithin: [{ label: '10m', ms: 600_000 }] },
        { name: 'gone', path: path.join(dir, 'nope'), modifiedWithin: [] },
      ],
      3_600_000,
      silentLogger,
    );
    try {
      const before = await c.collect(ctx);
      // Only whether a path is kept current from events is known before its first walk.
      for (const f of before) if (f.name !== 'hostaudit_path_watch_active') assert.deepEqual(f.samples, [], `${f.name} before the first walk`);
      assert.deepEqual(samples(before, 'hostaudit_path_watch_active').map((x) => x.value), [0, 0]);
      assert.ok(before.some((f) => f.name === 'hostaudit_path_bytes'), 'families are declared');
      await c.refresh(new AbortController().signal);
      assert.equal(c.rounds, 1);
      const fams = await c.collect(ctx);
      const du = Number(spawnSync('du', ['-sb', tree], { encoding: 'utf8' }).stdout.split('\t')[0]);
      assert.deepEqual(samples(fams, 'hostaudit_path_bytes'), [{ labels: { name: 'logs', path: tree }, value: du }]);
      assert.deepEqual(samples(fams, 'hostaudit_path_files'), [{ labels: { name: 'logs', path: tree }, value: 2 }]);
      assert.deepEqual(samples(fams, 'hostaudit_path_files_modified'), [{ labels: { name: 'logs', path: tree, within: '10m' }, value: 2 }]);
      assert.deepEqual(
        samples(fams, 'hostaudit_path_scan_errors').map((s) => [s.labels.name, s.value]),
        [
          ['logs', 0],
          ['gone', 1],
        ],
      );
      assert.equal(samples(fams, 'hostaudit_path_bytes').filter((s) => s.labels.name === 'gone').length, 0);
    } finally {
      await c.stop();
    }
  });

  it('stop() ends the background loop promptly', async () => {
    const c = new PathsCollector([{ name: 't', path: path.join(dir, 'tree'), modifiedWithin: [] }], 3_600_000, silentLogger);
    c.start();
    const t0 = Date.now();
    await c.stop();
    assert.ok(Date.now() - t0 < 5000);
    // After stop, a scrape still answers (with whatever finished before).
    await c.collect(ctx);
  });

  it('walks a configured path once with the configured paths inside it, each equal to du -sb', async () => {
    const sys = path.join(dir, 'sys');
    mkdirSync(path.join(sys, 'logs', 'old'), { recursive: true });
    mkdirSync(path.join(sys, 'data'), { recursive: true });
    writeFileSync(path.join(sys, 'logs', 'a.log'), 'a'.repeat(1234));
    writeFileSync(path.join(sys, 'logs', 'old', 'b.log'), 'b'.repeat(4321));
    writeFileSync(path.join(sys, 'data', 'x.db'), 'x'.repeat(8192));
    writeFileSync(path.join(sys, 'README'), 'r');
    const paths = [
      { name: 'logs', path: path.join(sys, 'logs'), modifiedWithin: [{ label: '1h', ms: 3_600_000 }] },
      { name: 'system', path: sys, modifiedWithin: [] },
      { name: 'old', path: path.join(sys, 'logs', 'old'), modifiedWithin: [] },
      { name: 'data', path: path.join(sys, 'data'), modifiedWithin: [] },
    ];
    const c = new PathsCollector(paths, 3_600_000, silentLogger);
    try {
      await c.refresh(new AbortController().signal);
      const bytes = samples(await c.collect(ctx), 'hostaudit_path_bytes');
      assert.equal(bytes.length, 4);
      for (const p of paths) {
        const du = Number(spawnSync('du', ['-sb', p.path], { encoding: 'utf8' }).stdout.split('\t')[0]);
        assert.equal(bytes.find((s) => s.labels.name === p.name)?.value, du, p.name);
      }
      const modified = samples(await c.collect(ctx), 'hostaudit_path_files_modified');
      assert.deepEqual(modified.map((s) => [s.labels.name, s.labels.within, s.value]), [['logs', '1h', 2]]);
    } finally {
      await c.stop();
    }
  });
});

describe('planScans', () => {
  const p = (name: string, at: string) => ({ name, path: at, modifiedWithin: [] });
  it('groups every configured path under the outermost configured path holding it', () => {
    const logs = p('logs', '/srv/t/logs');
    const data = p('data', '/srv/t/data');
    const system = p('system', '/srv/t');
    const deep = p('deep', '/srv/t/logs/archive');
    const other = p('other', '/srv/tx'); // a name prefix, not a directory inside /srv/t
    const again = p('again', '/srv/t/logs'); // the same directory configured twice
    const plan = planScans([logs, data, system, deep, other, again]);
    assert.deepEqual(
      plan.map((g) => [g.outer.name, g.inner.map((i) => i.name)]),
      [
        ['system', ['logs', 'data', 'deep', 'again']],
        ['other', []],
      ],
    );
    assert.deepEqual(planScans([p('root', '/'), logs]).map((g) => [g.outer.name, g.inner.map((i) => i.name)]), [['root', ['logs']]]);
    assert.deepEqual(planScans([logs, data]).map((g) => g.inner.length), [0, 0]);
  });
});
