// ServiceDepth reuses the io and status readings of a single-threaded process that has not run
// (its schedstat CPU time unchanged), for at most RESTING_MAX_AGE_MS, and smaps_rollup for at
// most SMAPS_MAX_AGE_MS; on a /proc tree made of files, where "has not run" can be staged.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { FamilyBuilder } from '../../src/collectors/metric-family.js';
import { RESTING_MAX_AGE_MS, SMAPS_MAX_AGE_MS, ServiceDepth } from '../../src/collectors/service-depth.js';
import { Logger } from '../../src/log.js';
import { ProcReader } from '../../src/sources/proc-tree.js';
import type { SupervisorProcess } from '../../src/sources/supervisor.js';
import { makeTmpDir } from '../helpers/tmp.js';

describe('ServiceDepth on a process that has not run', () => {
  const root = makeTmpDir('hostaudit-depth-rest-');
  after(() => rmSync(root, { recursive: true, force: true }));

  function stage(pid: number, o: { threads: number; runtime: number; writeBytes: number; voluntary: number; pssKb: number; nofile: number }): void {
    const dir = path.join(root, String(pid));
    mkdirSync(path.join(dir, 'fd'), { recursive: true });
    writeFileSync(path.join(dir, 'stat'), `${pid} (x) S 1 ${pid} ${pid} 0 -1 0 0 0 0 0 1 1 0 0 20 0 ${o.threads} 0 777 1000 5 0\n`);
    writeFileSync(path.join(dir, 'schedstat'), `${o.runtime} 0 1\n`);
    writeFileSync(path.join(dir, 'io'), `rchar: 1\nwchar: 1\nsyscr: 1\nsyscw: 1\nread_bytes: 0\nwrite_bytes: ${o.writeBytes}\ncancelled_write_bytes: 0\n`);
    writeFileSync(path.join(dir, 'status'), `Name:\tx\nThreads:\t${o.threads}\nvoluntary_ctxt_switches:\t${o.voluntary}\nnonvoluntary_ctxt_switches:\t2\n`);
    writeFileSync(path.join(dir, 'limits'), `Limit                     Soft Limit           Hard Limit           Units     \nMax open files            ${o.nofile}                 4096                 files     \n`);
    writeFileSync(path.join(dir, 'smaps_rollup'), `00400000-7fff [rollup]\nRss:                1000 kB\nPss:                 ${o.pssKb} kB\nSwap:                  0 kB\n`);
  }

  it('reuses io and status while the runtime stands still, re-reads when it moves or the reading is old', () => {
    let now = 1_000_000;
    const proc = new ProcReader(root);
    const depth = new ServiceDepth(proc, new Logger('error'), () => now);
    const p = { group: 'g', name: 'g', pid: 51 } as SupervisorProcess;
    const read = (): Record<string, number | undefined> => {
      const table = proc.readProcessTable();
      const b = new FamilyBuilder();
      depth.add(b, [p], new Map([[p, proc.treeUsage(table, 51)]]), table);
      const v = (name: string, extra: Record<string, string> = {}): number | undefined =>
        b.build().find((f) => f.name === name)?.samples.find((s) => Object.entries(extra).every(([k, x]) => s.labels[k] === x))?.value;
      return {
        write: v('hostaudit_service_io_bytes_total', { direction: 'write' }),
        voluntary: v('hostaudit_service_context_switches_total', { kind: 'voluntary' }),
        pss: v('hostaudit_service_proportional_memory_bytes'),
        ratio: v('hostaudit_service_fd_usage_ratio'),
      };
    };
    stage(51, { threads: 1, runtime: 500, writeBytes: 100, voluntary: 7, pssKb: 10, nofile: 64 });
    assert.deepEqual(read(), { write: 100, voluntary: 7, pss: 10 * 1024, ratio: 0 });
    stage(51, { threads: 1, runtime: 500, writeBytes: 999, voluntary: 9, pssKb: 20, nofile: 128 }); // staged: changed without running
    now += 1000;
    assert.deepEqual(read(), { write: 100, voluntary: 7, pss: 10 * 1024, ratio: 0 }, 'runtime unchanged: reused');
    stage(51, { threads: 1, runtime: 501, writeBytes: 999, voluntary: 9, pssKb: 20, nofile: 128 });
    assert.deepEqual(read(), { write: 999, voluntary: 9, pss: 10 * 1024, ratio: 0 }, 'ran: io and status read; PSS still young');
    stage(51, { threads: 1, runtime: 501, writeBytes: 2000, voluntary: 9, pssKb: 20, nofile: 128 });
    now += Math.max(RESTING_MAX_AGE_MS, SMAPS_MAX_AGE_MS);
    assert.deepEqual(read(), { write: 2000, voluntary: 9, pss: 20 * 1024, ratio: 0 }, 'old readings are taken again');
    stage(51, { threads: 1, runtime: 501, writeBytes: 2500, voluntary: 11, pssKb: 20, nofile: 128 }); // staged again, not run
    now += 1000;
    assert.deepEqual(read(), { write: 2000, voluntary: 9, pss: 20 * 1024, ratio: 0 }, 'the reading taken again is reused in turn');
    // Threads: always read.
    stage(51, { threads: 2, runtime: 501, writeBytes: 3000, voluntary: 9, pssKb: 20, nofile: 128 });
    assert.equal(read().write, 3000);
    stage(51, { threads: 2, runtime: 501, writeBytes: 3500, voluntary: 9, pssKb: 20, nofile: 128 });
    assert.equal(read().write, 3500);
  });
});
