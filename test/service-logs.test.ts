// hostaudit_service_log_bytes against a real supervisord whose program writes enough to
// rotate its stdout log several times during the test: the figure must be the live file plus
// supervisor's backups (.1 … .N), as the files on disk say once the writer has stopped.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Exporter } from './helpers/exporter.js';
import { find, value, type ParsedSample } from './helpers/metrics.js';
import { PYTHON, sleep, Supervisord } from './helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

const MAX_BYTES = 4096;
const BACKUPS = 3;

/** Writes `total` bytes of stdout in small lines over ~2 s, some stderr, then idles. */
const CHATTY = String.raw`
import sys, time
total = int(sys.argv[1])
line = ('x' * 99) + '\n'
sys.stderr.write('started\n'); sys.stderr.flush()
written = 0
while written < total:
    sys.stdout.write(line); sys.stdout.flush()
    written += len(line)
    time.sleep(0.01)
sys.stderr.write('done\n'); sys.stderr.flush()
open(sys.argv[2], 'w').write('done')
while True:
    time.sleep(60)
`;

function size(f: string): number {
  return existsSync(f) ? lstatSync(f).size : 0;
}

describe('service log bytes with supervisor rotation', () => {
  let dir: string;
  let sv: Supervisord;
  let exp: Exporter;
  let doneFlag: string;

  before(async () => {
    dir = makeTmpDir('hostaudit-svclogs-');
    const script = path.join(dir, 'chatty.py');
    writeFileSync(script, CHATTY);
    doneFlag = path.join(dir, 'done');
    sv = await Supervisord.start({
      programs: [
        {
          name: 'chatty',
          command: `${PYTHON} -u ${script} 20000 ${doneFlag}`,
          options: { stdout_logfile_maxbytes: String(MAX_BYTES), stdout_logfile_backups: String(BACKUPS), autostart: 'false' },
        },
        { name: 'quiet', command: `${PYTHON} -u ${script} 0 ${path.join(dir, 'quiet-done')}`, options: { stdout_logfile: 'NONE' } },
      ],
      groups: { kalshi: ['chatty'] },
    });
    exp = await Exporter.start({ config: { supervisor: { url: sv.unixUrl } } });
  });

  after(async () => {
    await exp?.cleanup();
    await sv?.cleanup();
    if (dir) removeTmpDir(dir);
  });

  it('counts the live log and its rotated backups, scraped while rotating and after', async () => {
    const out = path.join(sv.logDir, 'chatty.out.log');
    const err = path.join(sv.logDir, 'chatty.err.log');
    const l = { group: 'kalshi', name: 'chatty' };
    // Started only now, so it rotates while the test watches.
    assert.equal(existsSync(`${out}.1`), false);
    sv.ctl('start', 'kalshi:chatty');
    // While the program writes, scrapes keep answering with a plausible figure.
    let scrapes = 0;
    let sawBackup = false;
    while (!existsSync(doneFlag)) {
      const m = await exp.scrape();
      const v = value(m, 'hostaudit_service_log_bytes', { ...l, stream: 'stdout' });
      if (v !== undefined) {
        assert.ok(v >= 0 && v <= 20_000 + MAX_BYTES, `stdout bytes ${v}`);
        scrapes++;
      }
      if (existsSync(`${out}.1`)) sawBackup = true;
      await sleep(100);
    }
    assert.ok(scrapes > 3, `only ${scrapes} scrapes saw the series while writing`);
    assert.ok(sawBackup, 'the log rotated while the test watched');
    await sleep(300); // supervisor's last write after the flag
    const m: ParsedSample[] = await exp.scrape();
    const files = [out, ...Array.from({ length: BACKUPS + 2 }, (_, i) => `${out}.${i + 1}`)];
    // Supervisor keeps exactly BACKUPS backups: .1 … .3 exist, .4 never does.
    assert.deepEqual(files.map(existsSync), [true, true, true, true, false, false]);
    const expected = files.reduce((s, f) => s + size(f), 0);
    assert.ok(expected > size(out) + 2 * MAX_BYTES, 'backups hold most of the bytes');
    assert.equal(value(m, 'hostaudit_service_log_bytes', { ...l, stream: 'stdout' }), expected);
    assert.equal(value(m, 'hostaudit_service_log_bytes', { ...l, stream: 'stderr' }), size(err));
    assert.equal(size(err), 'started\ndone\n'.length);
  });

  it('a program logging to NONE has no stdout series', async () => {
    const m = await exp.scrape();
    assert.equal(find(m, 'hostaudit_service_info', { name: 'quiet' }).length, 1);
    assert.equal(find(m, 'hostaudit_service_log_bytes', { name: 'quiet', stream: 'stdout' }).length, 0);
    assert.equal(find(m, 'hostaudit_service_log_bytes', { name: 'quiet', stream: 'stderr' }).length, 1);
  });
});
