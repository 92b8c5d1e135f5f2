// `npm run bench -- scan`: directory scans against `du -sb` on trees of 10k, 100k and 1M
// files (nested directories, hardlinks, symlinks), built under .bench/ on the repository's
// disk and removed afterwards. Prints, side by side: du -sb, the exporter's walk (warm pool,
// as the exporter runs it), their ratio, the walk on one thread, an async fs.promises walk,
// get-folder-size; then the real exporter scanning the 1M-file tree: its RSS growth and
// /metrics latency while the scan runs.
//
// Bars (issue 4): scan <= 1.5 x du at 100k and 1M; peak RSS growth <= 100 MB during the 1M
// scan; scrape p99 <= 50 ms during it. Set BENCH_SIZES=10000,100000 to skip the 1M tree.
import { spawn, spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import http from 'node:http';
import { availableParallelism, cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as DirScan from '../src/sources/dir-scan.js';
import { exporterLaunch } from './lib/measure.js';
import { build } from './lib/tree.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The built module, as the exporter runs it (its walker threads load dist/…-worker.js).
const { WalkerPool, walkSync } = (await import(path.join(ROOT, 'dist', 'sources', 'dir-scan.js'))) as typeof DirScan;

const SIZES = (process.env.BENCH_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

// ---- building trees ---------------------------------------------------------------------------

// ---- the contenders ---------------------------------------------------------------------------

/** du -sb's wall and CPU time (user+sys), both from the shell's `time` around du alone. */
function duBytes(root: string): { ms: number; bytes: number; cpuMs: number } {
  const r = spawnSync('bash', ['-c', 'TIMEFORMAT="%R %U %S"; time du -sb "$1"', 'du', root], { encoding: 'utf8' });
  const [real, u, s] = r.stderr.trim().split('\n').pop()?.split(' ').map(Number) ?? [NaN, NaN, NaN];
  return { ms: (real ?? NaN) * 1000, bytes: Number(r.stdout.split('\t')[0]), cpuMs: ((u ?? NaN) + (s ?? NaN)) * 1000 };
}

/** The obvious async walk: fs.promises, 64 lstats in flight, each inode once. */
async function asyncWalk(root: string): Promise<number> {
  let bytes = 0;
  const seen = new Set<string>();
  const queue = [root];
  const one = async (p: string): Promise<void> => {
    const st = await lstat(p);
    if (!st.isDirectory() && st.nlink > 1) {
      const k = `${st.dev}:${st.ino}`;
      if (seen.has(k)) return;
      seen.add(k);
    }
    bytes += st.size;
    if (st.isDirectory()) for (const n of await readdir(p)) queue.push(`${p}/${n}`);
  };
  const workers = Array.from({ length: 64 }, async () => {
    while (queue.length > 0) await one(queue.pop() as string);
  });
  // The root's children appear only after the root is read: run until the queue stays empty.
  await Promise.all(workers);
  while (queue.length > 0) await Promise.all(Array.from({ length: 64 }, async () => { while (queue.length > 0) await one(queue.pop() as string); }));
  return bytes;
}

/** get-folder-size in a child process: its time, result and peak RSS. */
function getFolderSize(root: string, timeoutMs: number): { ms: number; bytes: number; peakRss: number } | string {
  const script = `
    import getFolderSize from 'get-folder-size';
    import { readFileSync } from 'node:fs';
    const t0 = performance.now();
    const r = await getFolderSize(${JSON.stringify(root)});
    const ms = performance.now() - t0;
    const hwm = Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
    console.log(JSON.stringify({ ms, bytes: Number(r.size), peakRss: hwm }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: timeoutMs });
  if (r.error || r.status !== 0) return r.error ? `> ${timeoutMs / 1000} s (stopped)` : `failed: ${r.stderr.split('\n').find((l) => l.trim()) ?? r.status}`;
  return JSON.parse(r.stdout) as { ms: number; bytes: number; peakRss: number };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
const fmt = (x: number): string => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(0)} ms`);
const mb = (b: number): string => `${(b / 1048576).toFixed(0)} MB`;

// ---- the exporter under a scan ----------------------------------------------------------------

const agent = new http.Agent({ keepAlive: true });
function scrape(url: string): Promise<{ ms: number; body: string }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ ms: performance.now() - t0, body }));
      })
      .on('error', reject);
  });
}

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]) * 1024;
}

function metric(body: string, name: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(name + '{') || l.startsWith(name + ' '));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : undefined;
}

interface UnderScan {
  idleScrapes: number[];
  baselineRss: number;
  peakRss: number;
  scanSeconds: number;
  bytes: number;
  scrapes: number[];
}

/**
 * Starts the built exporter watching `<base>/current`, which does not exist yet, so the idle
 * RSS can be measured; then renames the tree into place and scrapes every 10 ms (sampling
 * RSS as it goes) until the exporter reports the finished scan.
 */
async function exporterUnderScan(base: string, tree: string): Promise<UnderScan> {
  const watched = path.join(base, 'current');
  const cfg = path.join(base, 'hostaudit.yml');
  writeFileSync(cfg, `paths:\n  - name: bench\n    path: ${watched}\n    watch: false\nscan_interval: 3s\nsupervisor:\n  url: unix://${path.join(base, 'no-supervisor.sock')}\n`);
  const main = path.join(ROOT, 'dist', 'main.js');
  const launch = exporterLaunch(main);
  const child = spawn(process.execPath, [...launch.nodeFlags, main, `--config.file=${cfg}`, '--web.listen-address=127.0.0.1:0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...launch.env },
  });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  try {
    const deadline = Date.now() + 20_000;
    let port: string | undefined;
    while (!port) {
      port = /msg=listening address=\S+?:(\d+)/.exec(log)?.[1];
      if (Date.now() > deadline) throw new Error(`exporter did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = `http://127.0.0.1:${port}/metrics`;
    // Idle: the first (failing) scan done, a few scrapes served.
    for (let i = 0; i < 50; i++) await scrape(url);
    await new Promise((r) => setTimeout(r, 500));
    const idleScrapes: number[] = [];
    for (let i = 0; i < 100; i++) {
      idleScrapes.push((await scrape(url)).ms);
      await new Promise((res) => setTimeout(res, 10));
    }
    const baselineRss = rss(child.pid as number);
    const t0 = Number(/hostaudit_path_last_scan_timestamp_seconds\{[^}]*\} (\S+)/.exec((await scrape(url)).body)?.[1] ?? 0);
    renameSync(tree, watched);
    const scrapes: number[] = [];
    let peakRss = baselineRss;
    let bytes: number | undefined;
    let scanSeconds = 0;
    try {
      for (;;) {
        const r = await scrape(url);
        peakRss = Math.max(peakRss, rss(child.pid as number));
        const ts = Number(/hostaudit_path_last_scan_timestamp_seconds\{[^}]*\} (\S+)/.exec(r.body)?.[1] ?? 0);
        bytes = metric(r.body, 'hostaudit_path_bytes');
        // Latencies count only while a walk of the big tree is (or may be) running.
        if (ts > t0 && bytes !== undefined) {
          scanSeconds = metric(r.body, 'hostaudit_path_scan_duration_seconds') ?? 0;
          break;
        }
        scrapes.push(r.ms);
        await new Promise((res) => setTimeout(res, 10));
      }
    } finally {
      renameSync(watched, tree);
    }
    return { idleScrapes, baselineRss, peakRss, scanSeconds, bytes: bytes ?? 0, scrapes };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

// ---- main -------------------------------------------------------------------------------------

const benchDir = path.join(ROOT, '.bench');
mkdirSync(benchDir, { recursive: true });
const base = mkdtempSync(path.join(benchDir, 'scan-'));
const cleanup = (): void => rmSync(base, { recursive: true, force: true });
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

try {
  console.log(`${cpus()[0]?.model ?? 'cpu'} x${availableParallelism()}, node ${process.version}, trees under ${base}`);
  console.log(`load average at start: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}; median of ${RUNS} alternating runs, page cache warmed first\n`);
  // Rows are printed as each size finishes: the 1M tree takes minutes.
  const header = ['files', 'build', 'du -sb', 'exporter walk (2 threads)', 'ratio', 'CPU du / walk', 'walk, 1 thread', 'async fs.promises', 'get-folder-size'];
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  const pool = new WalkerPool();
  let under: UnderScan | undefined;
  for (const n of SIZES) {
    const tree = path.join(base, `t${n}`);
    const buildMs = await build(tree, n);
    // Warm the page cache (dentries and inodes) for everyone alike.
    duBytes(tree);
    await pool.scan({ root: tree, modifiedSince: [] });
    const du: number[] = [];
    const walk: number[] = [];
    let duB = 0;
    let walkB = 0;
    // CPU time (user+sys) too: the machine may be shared, and CPU is what load does not change.
    const duCpu: number[] = [];
    const walkCpu: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const d = duBytes(tree);
      du.push(d.ms);
      duCpu.push(d.cpuMs);
      duB = d.bytes;
      const t0 = performance.now();
      const c0 = process.cpuUsage(); // every thread of this process, the walkers included
      walkB = (await pool.scan({ root: tree, modifiedSince: [Date.now() - 600_000] })).bytes;
      walk.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      walkCpu.push((c.user + c.system) / 1000);
    }
    if (walkB !== duB) throw new Error(`walk ${walkB} != du ${duB} at ${n} files`);
    let t0 = performance.now();
    const c1 = process.cpuUsage();
    const one = walkSync({ root: tree, modifiedSince: [] });
    const oneMs = performance.now() - t0;
    const oneCpu = process.cpuUsage(c1);
    if (one.bytes !== duB) throw new Error(`single-thread walk ${one.bytes} != du ${duB}`);
    let asyncMs = NaN;
    if (n <= 100_000) {
      t0 = performance.now();
      await asyncWalk(tree);
      asyncMs = performance.now() - t0;
    }
    const gfs = getFolderSize(tree, n >= 1_000_000 ? 180_000 : 60_000);
    const gfsCell =
      typeof gfs === 'string' ? gfs : `${fmt(gfs.ms)} (${(gfs.ms / median(du)).toFixed(1)}x, peak RSS ${mb(gfs.peakRss)}${gfs.bytes === duB ? '' : ', WRONG SIZE'})`;
    const row = [
      n.toLocaleString('en-US'),
      fmt(buildMs),
      fmt(median(du)),
      fmt(median(walk)),
      (median(walk) / median(du)).toFixed(2),
      `${fmt(median(duCpu))} / ${fmt(median(walkCpu))}`,
      `${fmt(oneMs)} (CPU ${fmt((oneCpu.user + oneCpu.system) / 1000)})`,
      Number.isNaN(asyncMs) ? '–' : fmt(asyncMs),
      gfsCell,
    ];
    console.log(`| ${row.join(' | ')} |`);
    if (n === Math.max(...SIZES)) {
      under = await exporterUnderScan(base, tree);
      if (under.bytes !== duB) throw new Error(`exporter reported ${under.bytes} bytes, du -sb ${duB}`);
    }
    rmSync(tree, { recursive: true, force: true });
  }
  await pool.close();

  if (under) {
    const s = [...under.scrapes].sort((a, b) => a - b);
    const p = (q: number, xs = s): number => xs[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)] as number;
    const idle = [...under.idleScrapes].sort((a, b) => a - b);
    console.log(
      `\nexporter scanning ${Math.max(...SIZES).toLocaleString('en-US')} files: scan ${under.scanSeconds.toFixed(2)} s, ` +
        `RSS ${mb(under.baselineRss)} idle -> ${mb(under.peakRss)} peak (growth ${mb(under.peakRss - under.baselineRss)}), ` +
        `${s.length} scrapes during the scan: p50 ${p(0.5).toFixed(1)} ms, p99 ${p(0.99).toFixed(1)} ms, max ${p(1).toFixed(1)} ms ` +
        `(idle before it: p50 ${p(0.5, idle).toFixed(1)} ms, p99 ${p(0.99, idle).toFixed(1)} ms); hostaudit_path_bytes equal to du -sb`,
    );
    console.log(`load average at end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  }
} finally {
  cleanup();
}
