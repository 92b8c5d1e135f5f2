// The 0.2 commands and flags on the command line: --config.check, --no-collector.NAME, init,
// generate. Every mistake is a UsageError with one clear message.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCli } from '../../src/cli.js';
import { collectorNames } from '../../src/collectors/index.js';
import { UsageError } from '../../src/errors.js';

function usage(args: string[], re: RegExp): void {
  assert.throws(() => parseCli(args), (err: unknown) => err instanceof UsageError && re.test(err.message));
}

describe('command line, 0.2', () => {
  it('--config.check takes both files and starts nothing', () => {
    assert.deepEqual(parseCli(['--config.check', '--config.file=c.yml', '--web.config.file=w.yml']), {
      command: 'check',
      configFile: 'c.yml',
      logLevel: 'info',
      logFormat: 'logfmt',
      procfs: '/proc',
      webConfigFile: 'w.yml',
    });
  });

  it('--no-collector.NAME for every collector, serve and audit', () => {
    for (const name of collectorNames()) {
      const o = parseCli([`--no-collector.${name}`]);
      assert.equal(o.command, 'serve');
      assert.deepEqual((o as { disabledCollectors?: string[] }).disabledCollectors, [name]);
    }
    const a = parseCli(['audit', '--no-collector.host', '--no-collector.paths', '--no-collector.host']);
    assert.deepEqual((a as { disabledCollectors?: string[] }).disabledCollectors, ['host', 'paths']);
    assert.equal('disabledCollectors' in parseCli([]), false, 'absent when none is given');
  });

  it('an unknown collector is a usage error listing the names', () => {
    usage(['--no-collector.hots'], new RegExp(`unknown collector "hots" \\(collectors: ${collectorNames().join(', ')}\\)`));
    usage(['--no-collector.'], /unknown collector ""/);
    usage(['init', '--no-collector.host'], /Unknown option '--no-collector.host'/);
  });

  it('init and generate', () => {
    assert.deepEqual(parseCli(['init', '--supervisor.url=unix:///run/s.sock', '--out=h.yml']), {
      command: 'init',
      configFile: undefined,
      logLevel: 'info',
      logFormat: 'logfmt',
      procfs: '/proc',
      supervisorUrl: 'unix:///run/s.sock',
      outFile: 'h.yml',
    });
    const g = parseCli(['generate', '--config.file=h.yml', '--out=out']);
    assert.equal(g.command, 'generate');
    assert.equal((g as { outDir: string }).outDir, 'out');
    usage(['generate'], /--out=DIR is required/);
    usage(['generate', '--out='], /--out: must not be empty/);
    usage(['init', '--web.listen-address=:1'], /Unknown option/);
  });
});
