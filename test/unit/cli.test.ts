import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCli, parseListenAddress } from '../../src/cli.js';
import { UsageError } from '../../src/errors.js';

describe('command line', () => {
  it('has the exporter-style defaults', () => {
    assert.deepEqual(parseCli([]), {
      command: 'serve',
      configFile: undefined,
      logLevel: 'info',
      logFormat: 'logfmt',
      procfs: '/proc',
      listenAddress: ':9863',
      telemetryPath: '/metrics',
      webConfigFile: undefined,
    });
  });
  it('parses every serve flag', () => {
    const o = parseCli([
      '--config.file=/etc/h.yml',
      '--web.listen-address=127.0.0.1:9999',
      '--web.telemetry-path=/m',
      '--web.config.file=/etc/web.yml',
      '--log.level=debug',
      '--log.format=json',
    ]);
    assert.equal(o.command, 'serve');
    if (o.command !== 'serve') return;
    assert.equal(o.configFile, '/etc/h.yml');
    assert.equal(o.listenAddress, '127.0.0.1:9999');
    assert.equal(o.telemetryPath, '/m');
    assert.equal(o.webConfigFile, '/etc/web.yml');
    assert.equal(o.logLevel, 'debug');
    assert.equal(o.logFormat, 'json');
  });
  it('takes the procfs mount point as node_exporter does', () => {
    const o = parseCli(['--path.procfs=/host/proc/']);
    assert.ok(o.command === 'serve' && o.procfs === '/host/proc');
  });
  it('parses the audit subcommand', () => {
    const o = parseCli(['audit', '--baseline=b.json', '--format=json', '--sample=2s', '--config.file', 'c.yml']);
    assert.deepEqual(o, {
      command: 'audit',
      configFile: 'c.yml',
      logLevel: 'info',
      logFormat: 'logfmt',
      procfs: '/proc',
      baselineFile: 'b.json',
      format: 'json',
      sampleMs: 2000,
    });
  });
  it('rejects unknown flags, bad values and stray arguments with one line', () => {
    const bad: Array<[string[], RegExp]> = [
      [['--bogus'], /Unknown option '--bogus'/],
      [['--log.level=loud'], /--log\.level: must be one of debug, info, warn, error/],
      [['--web.listen-address=9863'], /--web\.listen-address/],
      [['--web.telemetry-path=metrics'], /--web\.telemetry-path/],
      [['audit', '--sample=5'], /--sample: must be a duration/],
      [['audit', '--format=pdf'], /--format: must be one of markdown, json, html/],
      [['audit', '--web.listen-address=:1'], /Unknown option/],
      [['serve'], /unexpected argument "serve"/],
      [['--config.file='], /--config\.file: must not be empty/],
      [['--path.procfs=proc'], /--path\.procfs: must be an absolute path/],
    ];
    for (const [args, re] of bad) {
      assert.throws(
        () => parseCli(args),
        (e: unknown) => e instanceof UsageError && re.test(e.message) && !e.message.includes('\n'),
        args.join(' '),
      );
    }
  });
  it('parses listen addresses', () => {
    assert.deepEqual(parseListenAddress(':9863'), { port: 9863 });
    assert.deepEqual(parseListenAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(parseListenAddress('[::1]:9863'), { host: '::1', port: 9863 });
    assert.throws(() => parseListenAddress('host:99999'), UsageError);
  });
});
