// The CLI given hostile config files: each exits 2 with one line naming the file (before 0.2 an
// alias bomb printed a stack trace and exited 1, a FIFO or /dev/zero hung it with no message,
// and scan_interval: 25d started with a 1 ms timer).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { assertOneLineError } from './helpers/assert-cli.js';
import { runCli } from './helpers/exporter.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

const dir = makeTmpDir('hostaudit-cfgcli-');
after(() => removeTmpDir(dir));

describe('CLI with hostile config files', () => {
  it('exits 2 with one line for an alias bomb, a FIFO, /dev/zero, an oversized timer, in either file', async () => {
    const bomb = path.join(dir, 'bomb.yml');
    writeFileSync(bomb, ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)].join('\n'));
    const fifo = path.join(dir, 'fifo.yml');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const long = path.join(dir, 'long.yml');
    writeFileSync(long, 'scan_interval: 25d\n');
    const cases: Array<[string[], RegExp]> = [
      [[`--config.file=${bomb}`], /bomb\.yml: invalid YAML: aliases expand past 100/],
      [[`--config.file=${fifo}`], /fifo\.yml: cannot read config file: a FIFO, not a regular file/],
      [['--config.file=/dev/zero'], /\/dev\/zero: cannot read config file: a character device, not a regular file/],
      [[`--config.file=${long}`], /long\.yml: scan_interval: must be at most 3w3d20h31m23s647ms/],
      [[`--web.config.file=${fifo}`, '--web.listen-address=127.0.0.1:0'], /fifo\.yml: cannot read web config file: a FIFO/],
      [[`--web.config.file=${bomb}`, '--web.listen-address=127.0.0.1:0'], /bomb\.yml: invalid YAML: aliases expand past 100/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args, { cwd: dir, timeoutMs: 60_000 })));
    results.forEach((r, i) => {
      const [args, re] = cases[i] as [string[], RegExp];
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
      assertOneLineError(r.stderr, re);
    });
  });
});
