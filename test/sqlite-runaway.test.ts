// Issue 12's attack on the real exporter: hostile databases (an overflow chain that points to
// itself, 10 MB of cells sharing one chain, a file cut to 8 of its 88 pages) beside intact
// ones, scraped again and again. The sqlite collector must stay successful, the intact
// databases keep their series, each bad one gets its own ok 0 (and one log line), no read
// of a bad file is still open once a scrape has answered, and RSS does not climb.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { Exporter } from './helpers/exporter.js';
import { value } from './helpers/metrics.js';
import { pragmas, sqlite3 } from './helpers/sqlite-craft.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

const CORPUS = path.join(path.dirname(new URL(import.meta.url).pathname), 'fuzz', 'corpus', 'sqlite');
const SCRAPES = 12;

/** Paths the process holds open, from /proc (a read in flight holds its database open). */
function openFiles(pid: number): string[] {
  const out: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      out.push(readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // closed while listed
    }
  }
  return out;
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]) * 1024;
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(fields[11]) + Number(fields[12]);
}

describe('hostile databases beside intact ones, scraped repeatedly', () => {
  let dir: string;
  let exp: Exporter;
  const hostile: string[] = [];
  const intact: string[] = [];
  before(async () => {
    dir = makeTmpDir('hostaudit-sqlrun-');
    for (const f of readdirSync(CORPUS).filter((n) => /\.db(\.gz)?$/.test(n))) {
      const raw = readFileSync(path.join(CORPUS, f));
      const target = path.join(dir, f.replace(/\.gz$/, ''));
      writeFileSync(target, f.endsWith('.gz') ? gunzipSync(raw) : raw);
      hostile.push(target);
    }
    for (const [name, sql] of [
      ['trades.db', 'create table trades(id integer primary key, sym text unique); create index t_sym on trades(id, sym);'],
      ['prices16.db', "pragma encoding='UTF-16le'; create table p(a, b); create index p_a on p(a); create table q(c);"],
    ] as const) {
      const f = path.join(dir, name);
      assert.ok(sqlite3(f, sql).ok);
      intact.push(f);
    }
    exp = await Exporter.start({ config: { databases: [path.join(dir, '*.db')], scan_interval: '1s' } });
  });
  after(async () => {
    await exp?.cleanup();
    if (dir) removeTmpDir(dir);
  });

  it(`${SCRAPES} scrapes: collector success 1, intact series kept, each bad file ok 0, nothing left reading, RSS bounded`, async (t) => {
    const pid = exp.child.pid as number;
    const rss: number[] = [];
    const latencies: number[] = [];
    const cpu0 = cpuTicks(pid);
    for (let i = 0; i < SCRAPES; i++) {
      const t0 = performance.now();
      const m = await exp.scrape();
      latencies.push(performance.now() - t0);
      assert.equal(value(m, 'hostaudit_collector_success', { collector: 'sqlite' }), 1, `scrape ${i}:\n${exp.output.slice(-2000)}`);
      for (const f of intact) {
        const want = pragmas(f);
        assert.equal(value(m, 'hostaudit_sqlite_ok', { path: f }), 1, f);
        assert.equal(value(m, 'hostaudit_sqlite_tables', { path: f }), want?.tables, f);
        assert.equal(value(m, 'hostaudit_sqlite_indexes', { path: f }), want?.indexes, f);
      }
      for (const f of hostile) {
        assert.equal(value(m, 'hostaudit_sqlite_ok', { path: f }), 0, f);
        assert.equal(value(m, 'hostaudit_sqlite_tables', { path: f }), undefined, `${f}: no made-up figure`);
      }
      // The scrape has answered: no read of any database may still hold it open.
      const held = openFiles(pid).filter((p) => p.startsWith(dir));
      assert.deepEqual(held, [], `scrape ${i}: files still open`);
      rss.push(rssBytes(pid));
    }
    const cpuSeconds = (cpuTicks(pid) - cpu0) / 100;
    t.diagnostic(`scrape latency ms: ${latencies.map((l) => l.toFixed(0)).join(' ')}`);
    t.diagnostic(`RSS MB: ${rss.map((r) => (r / 2 ** 20).toFixed(1)).join(' ')}; exporter CPU over the ${SCRAPES} scrapes ${cpuSeconds.toFixed(2)} s`);
    // After the first scrapes (JIT, first reads) the figure must settle, not grow per scrape.
    const settled = rss[2] as number;
    assert.ok(Math.max(...rss.slice(2)) <= settled + 48 * 2 ** 20, `RSS climbed: ${rss.map((r) => r >> 20).join(' ')} MB`);
    for (const f of hostile) {
      const lines = exp.output.split('\n').filter((l) => l.includes('database not readable') && l.includes(f));
      assert.equal(lines.length, 1, `${f}: said once, not on every scrape:\n${lines.join('\n')}`);
    }
  });
});
