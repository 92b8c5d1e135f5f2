// Reloads one at a time, bursts coalesced: twenty requests before a reload starts share it (the
// config is read once), and every request gets that reload's answer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CollectorRunner } from '../../src/collectors/run-collectors.js';
import { defaultConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { ReloadingRunner, Reloader, WebSettings } from '../../src/reload.js';

function reloader(readConfig: () => ReturnType<typeof defaultConfig>): { r: Reloader; runner: ReloadingRunner } {
  const runner = new ReloadingRunner(new CollectorRunner([], 1000, silentLogger), defaultConfig());
  const r = new Reloader({ readConfig, webConfigFile: undefined, web: undefined, webSettings: new WebSettings(undefined), runner, disabledCollectors: ['supervisor', 'host', 'filesystem'], tlsServer: undefined, log: silentLogger });
  return { r, runner };
}

describe('reload queue', () => {
  it('coalesces a burst into one reload', async () => {
    let reads = 0;
    const { r, runner } = reloader(() => {
      reads++;
      return defaultConfig({});
    });
    const results = await Promise.all(Array.from({ length: 20 }, () => r.reload()));
    assert.equal(reads, 1);
    assert.ok((await r.reload()).ok);
    assert.equal(reads, 2, 'a request after it ends reads again');
    assert.ok(results.every((x) => x.ok));
    assert.deepEqual(runner.current.collectors.map((c) => c.name), [], 'collectors switched off stay off');
    await runner.current.stop();
  });

  it('reports a bad file to every request that shared it, and the gauge says 0', async () => {
    const { r, runner } = reloader(() => {
      throw new ConfigError('/etc/h.yml', 'paths', 'must be a list, got a mapping');
    });
    const before = runner.current;
    const results = await Promise.all([r.reload(), r.reload()]);
    for (const x of results) assert.deepEqual(x, { ok: false, error: '/etc/h.yml: paths: must be a list, got a mapping' });
    assert.equal(runner.current, before, 'the old collectors keep serving');
    const families = (await runner.collect()).families;
    const gauge = families.find((f) => f.name === 'hostaudit_config_last_reload_successful');
    assert.deepEqual(gauge?.samples, [{ labels: {}, value: 0 }]);
    await runner.current.stop();
  });

  it('lets a programming error through instead of calling it a bad file', async () => {
    const { r } = reloader(() => {
      throw new TypeError('a bug');
    });
    await assert.rejects(r.reload(), TypeError);
  });
});
