// Per-service depth against real processes under a real supervisord: deleted-but-open bytes,
// the fd usage ratio under `ulimit -n 64`, I/O of a forking service whose children exit, PSS
// of forked workers sharing pages; every figure compared with what /proc says.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FamilyBuilder } from '../src/collectors/metric-family.js';
import { ServiceDepth } from '../src/collectors/service-depth.js';
import { Logger } from '../src/log.js';
import { ProcReader } from '../src/sources/proc-tree.js';
import type { SupervisorProcess } from '../src/sources/supervisor.js';
import { Exporter } from './helpers/exporter.js';
import { value, type ParsedSample } from './helpers/metrics.js';
import { PYTHON, sleep, Supervisord } from './helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

const FIXTURES = path.resolve(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'programs');

/** The pid and its descendants, from /proc/PID/stat. */
function tree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const t = readFileSync(`/proc/${e}/stat`, 'latin1');
      const f = t.slice(t.lastIndexOf(')') + 2).split(' ');
      if (f[0] !== 'Z') parent.set(Number(e), Number(f[1]));
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop() as number;
    if (!parent.has(pid)) continue;
    out.push(pid);
    for (const [p, pp] of parent) if (pp === pid) stack.push(p);
  }
  return out;
}

function kv(file: string, key: string, unit = ''): number {
  const m = new RegExp(`^${key}:\\s+(\\d+)${unit}`, 'm').exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`no ${key} in ${file}`);
  return Number(m[1]);
}

describe('service depth with a real supervisord', () => {
  let sv: Supervisord;
  let exp: Exporter;
  let work: string;
  const pidOf = (name: string): number => {
    const pid = sv.status().get(name)?.pid;
    assert.ok(pid, `${name} has a pid`);
    return pid;
  };
  const scrape = (): Promise<ParsedSample[]> => exp.scrape();
  const of = (s: ParsedSample[], metric: string, name: string, extra: Record<string, string> = {}): number | undefined =>
    value(s, metric, { name, ...extra });

  before(async () => {
    work = makeTmpDir('hostaudit-depth-');
    sv = await Supervisord.start({
      programs: [
        { name: 'deleted', command: `${PYTHON} ${FIXTURES}/hold_deleted.py ${work} 123457 5000` },
        { name: 'fds', command: `sh -c 'ulimit -n 64 && exec ${PYTHON} ${FIXTURES}/hold_fds.py 50'` },
        { name: 'forkio', command: `${PYTHON} ${FIXTURES}/fork_io.py ${work} 4` },
        { name: 'shared', command: `${PYTHON} ${FIXTURES}/shared_memory.py 64 3` },
      ],
    });
    await sv.waitFor((s) => ['deleted', 'fds', 'forkio', 'shared'].every((n) => s.get(n)?.state === 'RUNNING'), 60_000);
    exp = await Exporter.start({ config: { supervisor: { url: sv.unixUrl } } });
  });

  after(async () => {
    await exp?.cleanup();
    await sv?.cleanup();
    removeTmpDir(work);
  });

  it('counts the bytes of deleted files the tree holds open, each file once', async () => {
    // Two files, each open twice in the parent and inherited by a child: four fds per file.
    let got: number | undefined;
    for (let i = 0; i < 100 && got !== 123457 + 5000; i++) {
      got = of(await scrape(), 'hostaudit_service_deleted_open_bytes', 'deleted');
      if (got !== 123457 + 5000) await sleep(200);
    }
    assert.equal(got, 123457 + 5000);
    assert.equal(tree(pidOf('deleted')).length, 2);
    // Services holding nothing deleted say 0 (a reading, not a gap).
    assert.equal(of(await scrape(), 'hostaudit_service_deleted_open_bytes', 'shared'), 0);
  });

  it('gives the fd usage ratio against the soft NOFILE limit', async () => {
    const pid = pidOf('fds');
    assert.match(readFileSync(`/proc/${pid}/limits`, 'utf8'), /^Max open files\s+64\s+\d+\s+files/m);
    let s: ParsedSample[] = [];
    for (let i = 0; i < 100; i++) {
      s = await scrape();
      if (of(s, 'hostaudit_service_open_fds', 'fds') === 50) break;
      await sleep(200);
    }
    assert.equal(of(s, 'hostaudit_service_open_fds', 'fds'), 50);
    assert.equal(of(s, 'hostaudit_service_fd_usage_ratio', 'fds'), 50 / 64);
    assert.equal(of(s, 'hostaudit_service_read_errors', 'fds'), 0);
    assert.equal(of(s, 'hostaudit_service_threads', 'fds'), kv(`/proc/${pid}/status`, 'Threads'));
  });

  it('keeps I/O of children that exited, and never goes down', async () => {
    const root = pidOf('forkio');
    const seen: Array<{ write: number; read: number; major: number; vol: number }> = [];
    const take = async (): Promise<void> => {
      const s = await scrape();
      const write = of(s, 'hostaudit_service_io_bytes_total', 'forkio', { direction: 'write' });
      const read = of(s, 'hostaudit_service_io_bytes_total', 'forkio', { direction: 'read' });
      const major = of(s, 'hostaudit_service_major_page_faults_total', 'forkio');
      const vol = of(s, 'hostaudit_service_context_switches_total', 'forkio', { kind: 'voluntary' });
      assert.ok(write !== undefined && read !== undefined && major !== undefined && vol !== undefined);
      seen.push({ write, read, major, vol });
    };
    const orphanFile = path.join(work, 'orphan.pid');
    for (let i = 0; i < 300 && !existsSync(orphanFile); i++) {
      await take();
      await sleep(100);
    }
    assert.ok(existsSync(orphanFile), 'the grandchild wrote its file');
    const orphan = Number(readFileSync(orphanFile, 'utf8'));
    // Seen in the tree, with its 2 MiB written.
    for (let i = 0; i < 100 && !tree(root).includes(orphan); i++) await sleep(50);
    await take();
    const orphanWrite = kv(`/proc/${orphan}/io`, 'write_bytes');
    assert.ok(orphanWrite >= 2 << 20);
    writeFileSync(path.join(work, 'release'), '');
    for (let i = 0; i < 100 && tree(root).includes(orphan); i++) await sleep(50);
    assert.ok(!tree(root).includes(orphan), 'the grandchild left the tree');
    for (let i = 0; i < 5; i++) await take();

    for (let i = 1; i < seen.length; i++) {
      for (const k of ['write', 'read', 'major', 'vol'] as const) {
        assert.ok((seen[i] as never)[k] >= (seen[i - 1] as never)[k], `${k} went down at scrape ${i}: ${JSON.stringify(seen.slice(i - 1, i + 1))}`);
      }
    }
    // Quiet now: the tree's own /proc sums (the reaped children are in the parent's io) plus
    // what the grandchild did while it was in the tree.
    const members = tree(root);
    const sum = (key: string): number => members.reduce((a, pid) => a + kv(`/proc/${pid}/io`, key), 0);
    const last = seen.at(-1) as (typeof seen)[number];
    assert.equal(last.write, sum('write_bytes') + orphanWrite);
    assert.equal(last.read, sum('read_bytes') + kv(`/proc/${orphan}/io`, 'read_bytes'));
    assert.ok(last.write >= 4 * (1 << 20) + (2 << 20), `write ${last.write}: four children's 1 MiB and the grandchild's 2 MiB`);
  });

  it('gives PSS below the summed RSS of forked workers sharing pages, equal to smaps_rollup', async () => {
    const root = pidOf('shared');
    for (let i = 0; i < 100 && tree(root).length < 4; i++) await sleep(100);
    const members = tree(root);
    assert.equal(members.length, 4);
    const rollup = (key: string): number => members.reduce((a, pid) => a + kv(`/proc/${pid}/smaps_rollup`, key, ' kB') * 1024, 0);

    // Through the exporter: PSS well below the summed RSS, the shared 64 MiB counted once.
    // (Its readings may be up to SMAPS_MAX_AGE_MS old, and other programs' use of the same
    // libraries moves PSS meanwhile, so equality is checked below on fresh readings.)
    const s = await scrape();
    const pss = of(s, 'hostaudit_service_proportional_memory_bytes', 'shared') as number;
    const rss = of(s, 'hostaudit_service_resident_memory_bytes', 'shared') as number;
    assert.ok(pss < rss * 0.6, `PSS ${pss} well below the summed RSS ${rss} of four processes sharing 64 MiB`);
    assert.ok(pss > 64 * 2 ** 20 && pss < 64 * 2 ** 20 * 1.5, `PSS ${pss}: the shared 64 MiB counted once`);
    assert.equal(of(s, 'hostaudit_service_swap_bytes', 'shared'), rollup('Swap'));

    // The same reader with a clock that makes every reading due: equal to smaps_rollup's sums
    // read just before and after (retried until nothing moved between the two).
    let t = 0;
    const proc = new ProcReader();
    const depth = new ServiceDepth(proc, new Logger('error'), () => (t += 3_600_000));
    const p = { group: 'shared', name: 'shared', pid: root } as SupervisorProcess;
    let got: number | undefined;
    let before = -1;
    let afterSum = -2;
    for (let i = 0; i < 50 && !(before === afterSum && got === before); i++) {
      before = rollup('Pss');
      const table = proc.readProcessTable();
      const b = new FamilyBuilder();
      depth.add(b, [p], new Map([[p, proc.treeUsage(table, root)]]), table);
      afterSum = rollup('Pss');
      got = b.build().find((f) => f.name === 'hostaudit_service_proportional_memory_bytes')?.samples[0]?.value;
      if (!(before === afterSum && got === before)) await sleep(100);
    }
    assert.equal(before, afterSum, 'smaps_rollup settled');
    assert.equal(got, before);
  });
});
