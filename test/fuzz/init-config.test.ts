// What `init` prints is built from names the host gives (program names, directories, command
// lines, getAllConfigInfo's answer): whatever they are, the config parses and passes the same
// validation as --config.check, with every path as found.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config.js';
import { joinPrograms, type Discovery } from '../../src/init/discover.js';
import { renderConfig } from '../../src/init/render-config.js';
import type { XmlRpcValue } from '../../src/sources/xmlrpc.js';
import { fuzzParams } from '../helpers/fuzz.js';

const text = fc.string({ unit: 'binary', maxLength: 40 });
const absPath = text.map((s) => `/${s.replace(/\0/g, '')}`).filter((s) => s.length > 1);
const found = <T>(v: fc.Arbitrary<T>) => fc.record({ value: v, why: text });

const discovery: fc.Arbitrary<Discovery> = fc.record({
  supervisorUrl: fc.constantFrom('unix:///var/run/supervisor.sock', 'http://127.0.0.1:9001/RPC2'),
  supervisorVersion: text,
  programs: fc.array(fc.record({ group: text, name: text, command: text, state: text, pid: fc.nat(), logFiles: fc.array(absPath, { maxLength: 2 }) }), { maxLength: 4 }),
  paths: fc.uniqueArray(found(fc.record({ name: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,12}$/), path: absPath, logs: fc.boolean() })), { maxLength: 4, selector: (p) => p.value.name }),
  databases: fc.array(found(absPath), { maxLength: 3 }),
  probes: fc.uniqueArray(found(fc.record({ name: text.filter((s) => s.length > 0), url: fc.integer({ min: 1, max: 65535 }).map((p) => `http://127.0.0.1:${p}/health`) })), { maxLength: 3, selector: (p) => p.value.name }),
  criticalFiles: fc.array(found(absPath), { maxLength: 3 }),
  processNames: fc.array(found(text.filter((s) => s.length > 0)), { maxLength: 3 }),
  notes: fc.array(text, { maxLength: 3 }),
});

const xmlrpc: fc.Arbitrary<XmlRpcValue> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(fc.constantFrom('name', 'group', 'command', 'directory', 'stdout_logfile', 'x'), tie('value'), { maxKeys: 6 })),
})).value as fc.Arbitrary<XmlRpcValue>;

describe('init output (fuzz)', () => {
  it('always passes the config validation, every path kept as found', () => {
    fc.assert(
      fc.property(discovery, (d) => {
        // The config reader resolves each path (path.resolve): an absolute path stays itself, normalized.
        const cfg = parseConfig(parse(renderConfig(d, { host: 'h\nx', date: 'now' })), '/tmp/init.yml');
        assert.deepEqual(cfg.paths.map((p) => p.path), d.paths.map((p) => path.resolve(p.value.path)));
        assert.deepEqual(cfg.databases, d.databases.map((g) => path.resolve(g.value)));
        assert.deepEqual(cfg.criticalFiles, d.criticalFiles.map((f) => path.resolve(f.value)));
        assert.deepEqual(cfg.probes.map((p) => p.name), d.probes.map((p) => p.value.name));
      }),
      fuzzParams(1000),
    );
  });

  it('reads any getAllConfigInfo answer without throwing', () => {
    fc.assert(
      fc.property(xmlrpc, (v) => {
        for (const p of joinPrograms(v, [])) {
          assert.equal(typeof p.name, 'string');
          assert.ok(p.logFiles.every((f) => f.startsWith('/') && !f.startsWith('/dev/')));
        }
      }),
      fuzzParams(1000),
    );
  });
});

describe('init, getAllConfigInfo', () => {
  it('takes log files from the process info and the config info, never /dev/null', () => {
    const programs = joinPrograms(
      [
        { name: 'web', group: 'web', command: 'python3 app.py', directory: '/srv/web', stdout_logfile: '/srv/logs/web.log', stderr_logfile: '/dev/null' },
        { name: 'worker_00', group: 'worker', command: 'python3 w.py' },
        'not a struct',
        { group: 'nameless' },
      ],
      [],
    );
    assert.deepEqual(
      programs.map((p) => [p.group, p.name, p.directory, p.logFiles]),
      [
        ['web', 'web', '/srv/web', ['/srv/logs/web.log']],
        ['worker', 'worker_00', undefined, []],
      ],
    );
  });
});
