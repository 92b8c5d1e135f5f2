// Paths kept current from filesystem events, side by side with du -sb on the same tree: the
// exporter's CPU over a quiet minute after its first walk (scrapes every 15 s) and over a minute
// of 100 file changes a second, both against the CPU of one `du -sb`; how soon a change is
// served; whether the figure equals du -sb at quiet moments; RSS over an idle exporter.
// `npm run bench -- watch`; BENCH_WATCH_SIZES=100000,1000000 (default), BENCH_WATCH_SECONDS=60;
// BENCH_WATCH_NODE_FLAGS: extra Node flags for the exporter on the tree only (not the idle one),
// e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" (the profile is written when it is stopped).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exporterLaunch } from './lib/measure.js';
import { build } from './lib/tree.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SIZES = (process.env.BENCH_WATCH_SIZES ?? '100000,1000000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_WATCH_SECONDS ?? 60);
const CLK_TCK = 100;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function du(root: string): { bytes: number; cpuMs: number } {
  const r = spawnSync('bash', ['-c', 'TIMEFORMAT="%U %S"; time du -sb "$1"', 'du', root], { encoding: 'utf8' });
  const [u, s] = r.stderr.trim().split('\n').pop()?.split(' ').map(Number) ?? [NaN, NaN];
  return { bytes: Number(r.stdout.split('\t')[0]), cpuMs: ((u ?? NaN) + (s ?? NaN)) * 1000 };
}

/** utime + stime of a process, ms. */
function cpuMs(pid: number): number {
  const st = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return Number(m?.[1] ?? NaN) / 1024;
}

interface Running {
  child: ChildProcess;
  url: string;
  log: string;
}

const EXTRA_FLAGS = (process.env.BENCH_WATCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);

async function start(dir: string, tree: string, extraFlags: readonly string[] = []): Promise<Running> {
  const cfg = path.join(dir, `hostaudit-${path.basename(tree)}.yml`);
  writeFileSync(
    cfg,
    `paths:\n  - name: bench\n    path: ${tree}\n    modified_within: [10m, 1h]\nscan_interval: 60s\nsupervisor:\n  url: unix://${path.join(dir, 'no-supervisor.sock')}\n`,
  );
  const main = path.join(ROOT, 'dist', 'main.js');
  const launch = exporterLaunch(main);
  const child = spawn(process.execPath, [...launch.nodeFlags, ...extraFlags, main, `--config.file=${cfg}`, '--web.listen-address=127.0.0.1:0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...launch.env },
  });
  const r: Running = { child, url: '', log: '' };
  child.stderr?.on('data', (d: Buffer) => (r.log += d.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const port = /msg=listening address=\S+?:(\d+)/.exec(r.log)?.[1];
    if (port) {
      r.url = `http://127.0.0.1:${port}/metrics`;
      return r;
    }
    if (Date.now() > deadline) throw new Error(`exporter did not start:\n${r.log}`);
    await sleep(50);
  }
}

async function stop(r: Running): Promise<void> {
  if (r.child.exitCode !== null) return;
  const exited = new Promise((res) => r.child.once('exit', res));
  r.child.kill('SIGTERM');
  await exited;
}

async function figure(r: Running, name: string): Promise<number | undefined> {
  let body: string;
  try {
    body = await (await fetch(r.url)).text();
  } catch (err) {
    // A kept-alive connection the server closed as the request went out: once more, on a new one.
    process.stderr.write(`scrape failed (${String((err as Error).cause ?? err)}), retrying\n`);
    body = await (await fetch(r.url)).text();
  }
  const m = new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(body);
  return m ? Number(m[1]) : undefined;
}

/**
 * Scrapes both exporters every 15 s for `seconds`, as Prometheus would; returns each one's CPU
 * over the same window. The idle one (an empty path) is what the exporter costs without a tree:
 * the difference is what keeping the tree current costs.
 */
async function minute(r: Running, idle: Running, seconds: number): Promise<{ total: number; idle: number }> {
  const pids = [r.child.pid as number, idle.child.pid as number];
  const c0 = pids.map(cpuMs);
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    await Promise.all([figure(r, 'hostaudit_path_bytes'), figure(idle, 'hostaudit_path_bytes')]);
    await sleep(Math.min(15_000, Math.max(0, end - Date.now())));
  }
  const c1 = pids.map(cpuMs);
  return { total: (c1[0] as number) - (c0[0] as number), idle: (c1[1] as number) - (c0[1] as number) };
}

function cpuCell(c: { total: number; idle: number }, duMs: number): string {
  const tree = c.total - c.idle;
  return `${tree.toFixed(0)} ms (${(tree / duMs).toFixed(2)}x du; exporter ${c.total.toFixed(0)}, idle exporter ${c.idle.toFixed(0)})`;
}

/** A child that makes `perSecond` changes a second under `tree` for `seconds`: appends, new files, deletions. */
function churn(tree: string, perSecond: number, seconds: number): Promise<void> {
  const script = `
    const fs = require('fs'); const root = process.argv[1]; const rate = +process.argv[2]; const end = Date.now() + (+process.argv[3]) * 1000;
    const dirs = []; for (let a = 0; a < 10; a++) for (let b = 0; b < 10; b++) dirs.push(root + '/a' + a + '/b' + b);
    let n = 0; const made = [];
    const t = setInterval(() => {
      if (Date.now() > end) { clearInterval(t); return; }
      for (let i = 0; i < rate / 10; i++, n++) {
        const d = dirs[n % dirs.length];
        const k = n % 3;
        try {
          if (k === 0) fs.appendFileSync(d + '/f' + (n % 40 + 2) + '.log', 'churn line ' + n + '\\n');
          else if (k === 1) { const p = d + '/churn-' + n + '.log'; fs.writeFileSync(p, 'x'.repeat(n % 500)); made.push(p); }
          else if (made.length > 0) fs.unlinkSync(made.shift());
        } catch {}
      }
    }, 100);`;
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['-e', script, tree, String(perSecond), String(seconds)], { stdio: 'inherit' });
    c.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`churn exited with ${code}`))));
  });
}

/**
 * ms from a change until /metrics serves a new figure, and whether that figure is du -sb's
 * (du runs after the figure moved: its own minutes-long walk of a large tree is not counted).
 */
async function freshness(r: Running, tree: string, i: number): Promise<{ ms: number; equal: boolean }> {
  const before = await figure(r, 'hostaudit_path_bytes');
  const f = path.join(tree, 'a0', 'b0', `fresh-${i}.log`);
  const t0 = Date.now();
  writeFileSync(f, 'y'.repeat(1000 + i));
  for (;;) {
    const now = await figure(r, 'hostaudit_path_bytes');
    if (now !== before) {
      const ms = Date.now() - t0;
      await sleep(500);
      return { ms, equal: (await figure(r, 'hostaudit_path_bytes')) === du(tree).bytes };
    }
    if (Date.now() - t0 > 60_000) return { ms: Infinity, equal: false };
    await sleep(20);
  }
}

const benchDir = path.join(ROOT, '.bench');
mkdirSync(benchDir, { recursive: true });
const base = mkdtempSync(path.join(benchDir, 'watch-'));
try {
  console.log(`${cpus()[0]?.model ?? 'cpu'} x${availableParallelism()}, node ${process.version}, trees under ${base}`);
  console.log(`load average at start: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}; scrapes every 15 s; ${SECONDS} s per phase\n`);
  const empty = path.join(base, 'empty');
  mkdirSync(empty);
  const idle = await start(base, empty);
  await sleep(20_000);
  const idleRss = rssMb(idle.child.pid as number);
  const header = ['files', 'du -sb CPU', 'first walk', 'quiet minute: tree CPU', '100 changes/s: tree CPU', 'freshness max', 'equal du at rest', 'RSS (idle exporter)', 'watches'];
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const n of SIZES) {
    const tree = path.join(base, `t${n}`);
    await build(tree, n);
    du(tree); // page cache warmed for both
    const d = du(tree);
    const r = await start(base, tree, EXTRA_FLAGS);
    r.child.once('exit', (code, sig) => {
      if (code !== 0 || sig) process.stderr.write(`exporter for ${n} files exited (${code ?? sig}):\n${r.log.split('\n').slice(-30).join('\n')}\n`);
    });
    const t0 = Date.now();
    while ((await figure(r, 'hostaudit_path_watch_active')) !== 1) {
      if (Date.now() - t0 > 600_000) throw new Error(`not watching after 10 min:\n${r.log}`);
      await sleep(200);
    }
    const walkS = (await figure(r, "hostaudit_path_scan_duration_seconds")) ?? NaN;
    // The walk's garbage settles first: the quiet minute is what a quiet tree costs from then on.
    await sleep(15_000);
    const atRest: boolean[] = [(await figure(r, 'hostaudit_path_bytes')) === du(tree).bytes];
    const quiet = await minute(r, idle, SECONDS);
    atRest.push((await figure(r, 'hostaudit_path_bytes')) === du(tree).bytes);
    const [busy] = await Promise.all([minute(r, idle, SECONDS), churn(tree, 100, SECONDS)]);
    await sleep(2000);
    atRest.push((await figure(r, 'hostaudit_path_bytes')) === du(tree).bytes);
    const fresh: number[] = [];
    for (let i = 0; i < 5; i++) {
      const f = await freshness(r, tree, i);
      fresh.push(f.ms);
      atRest.push(f.equal);
    }
    const rss = rssMb(r.child.pid as number);
    const watches = /watches=(\d+)/.exec(r.log)?.[1] ?? '?';
    await stop(r);
    if (process.env.BENCH_EXPORTER_LOG) writeFileSync(process.env.BENCH_EXPORTER_LOG, r.log);
    const row = [
      n.toLocaleString('en-US'),
      `${d.cpuMs.toFixed(0)} ms`,
      `${walkS.toFixed(2)} s`,
      cpuCell(quiet, d.cpuMs),
      cpuCell(busy, d.cpuMs),
      `${Math.max(...fresh)} ms`,
      atRest.every(Boolean) ? 'yes' : `NO (${atRest.join(',')})`,
      `${rss.toFixed(1)} MB (+${(rss - idleRss).toFixed(1)} over ${idleRss.toFixed(1)})`,
      watches,
    ];
    console.log(`| ${row.join(' | ')} |`);
    rmSync(tree, { recursive: true, force: true });
  }
  await stop(idle);
  console.log(`\nload average at end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
} finally {
  rmSync(base, { recursive: true, force: true });
}
