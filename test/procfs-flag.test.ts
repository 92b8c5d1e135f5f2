// --path.procfs reaches every /proc reader: an exporter pointed at a staged procfs serves the
// staged host memory and process table, not the machine's.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Exporter } from './helpers/exporter.js';
import { value } from './helpers/metrics.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

describe('--path.procfs', () => {
  let dir: string;
  let exp: Exporter;

  before(async () => {
    dir = makeTmpDir('hostaudit-procfs-');
    writeFileSync(path.join(dir, 'meminfo'), 'MemTotal:       1000000 kB\nMemFree:         100000 kB\nMemAvailable:    250000 kB\n');
    writeFileSync(path.join(dir, 'stat'), 'cpu  1 2 3 4\nbtime 1700000000\n');
    // Three processes named "staged", one a zombie (not counted), and a kernel thread.
    const proc = (pid: number, comm: string, state: string, ppid: number): void => {
      mkdirSync(path.join(dir, String(pid)), { recursive: true });
      writeFileSync(path.join(dir, String(pid), 'stat'), `${pid} (${comm}) ${state} ${ppid} ${pid} ${pid} 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 777 1000 5 0\n`);
      writeFileSync(path.join(dir, String(pid), 'cmdline'), `${comm}\0`);
    };
    proc(1, 'init', 'S', 0);
    proc(10, 'staged', 'S', 1);
    proc(11, 'staged', 'S', 1);
    proc(12, 'staged', 'Z', 1);
    exp = await Exporter.start({ config: { process_names: ['staged'] }, args: [`--path.procfs=${dir}`] });
  });

  after(async () => {
    await exp?.cleanup();
    removeTmpDir(dir);
  });

  it('serves the staged procfs', async () => {
    const m = await exp.scrape();
    assert.equal(value(m, 'hostaudit_host_memory_bytes', { kind: 'total' }), 1000000 * 1024);
    assert.equal(value(m, 'hostaudit_host_memory_bytes', { kind: 'available' }), 250000 * 1024);
    assert.equal(value(m, 'hostaudit_host_processes', { name: 'staged' }), 2);
  });
});
