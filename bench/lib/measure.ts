// Measuring exporters from outside, as Prometheus sees them: scrape latency over a kept-alive
// connection, CPU time and RSS of the exporter process from /proc.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { freePort, sleep } from '../../test/helpers/supervisord.js';

export const CLK_TCK = 100;

export interface RunningExporter {
  name: string;
  child: ChildProcess;
  url: string;
  output: string;
  stop(): Promise<void>;
}

/** How the exporter is started: environment variables and Node flags before its entry point. */
export interface ExporterLaunch {
  env: Record<string, string>;
  nodeFlags: string[];
}

/**
 * How the exporter is started, from its entry point's shebang
 * (`#!/usr/bin/env -S [NAME=VALUE ...] node [FLAGS]`): the benchmark measures the exporter as
 * users start it.
 */
export function exporterLaunch(mainFile: string): ExporterLaunch {
  const first = readFileSync(mainFile, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\/usr\/bin\/env -S ((?:[A-Z_]+=\S+ )*)node(?: (.*))?$/.exec(first);
  if (!m) throw new Error(`${mainFile}: no "#!/usr/bin/env -S [NAME=VALUE ...] node" shebang`);
  const env = Object.fromEntries((m[1] ?? '').split(' ').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  return { env, nodeFlags: (m[2] ?? '').split(' ').filter(Boolean) };
}

/** The launch as one line: what `npm start` runs. */
export function launchLine(l: ExporterLaunch, entry: string): string {
  return [...Object.entries(l.env).map(([k, v]) => `${k}=${v}`), 'node', ...l.nodeFlags, entry].join(' ');
}

/** Starts an exporter listening on 127.0.0.1:PORT (the flag built by `listen`), waits for /metrics. */
export async function startExporter(name: string, cmd: string, args: (listen: string) => string[], env: NodeJS.ProcessEnv = {}): Promise<RunningExporter> {
  const port = await freePort();
  const child = spawn(cmd, args(`127.0.0.1:${port}`), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const e: RunningExporter = {
    name,
    child,
    url: `http://127.0.0.1:${port}/metrics`,
    output: '',
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
  const keep = (d: Buffer): void => {
    if (e.output.length < 100_000) e.output += d.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${e.output}`);
    try {
      const r = await get(e.url);
      if (r.status === 200) return e;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} did not answer on ${e.url}:\n${e.output}`);
    await sleep(100);
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One GET over a kept-alive connection (as Prometheus scrapes); the body is read fully (and kept with `keep`). */
export function get(url: string, keep = false): Promise<{ status: number; bytes: number; body?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, timeout: 30_000 }, (res) => {
      let bytes = 0;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (keep) chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, ...(keep ? { body: Buffer.concat(chunks).toString() } : {}) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Milliseconds for one scrape. Throws on a non-200. `onBody` gets the body (read after the clock stops). */
export async function timedScrape(url: string, onBody?: (body: string) => void): Promise<number> {
  const t0 = process.hrtime.bigint();
  const r = await get(url, onBody !== undefined);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 200) throw new Error(`${url} answered ${r.status}`);
  onBody?.(r.body ?? '');
  return ms;
}

/** The collectors a hostaudit scrape reports failed (hostaudit_collector_success 0). */
export function failedCollectors(body: string): string[] {
  return [...body.matchAll(/^hostaudit_collector_success\{[^}]*collector="([^"]+)"[^}]*\} 0$/gm)].map((m) => m[1] as string);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

/** The fields of /proc/PID/stat after the command name: index 0 is field 3 (state). */
function statFields(pid: number | 'self'): string[] {
  const t = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return t.slice(t.lastIndexOf(')') + 2).split(' ');
}

/** utime+stime of a process (all its threads), in seconds. */
export function cpuSeconds(pid: number): number {
  const f = statFields(pid);
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/**
 * CPU seconds (user + system) of one `du -sb DIR`, median of `runs`: the cost of the simplest
 * tool that sizes the same tree, beside the exporter's scans. Read from this process's
 * waited-for children times in /proc/self/stat (cutime, cstime).
 */
export function duCpuSeconds(dir: string, runs = 3): number {
  const children = (): number => {
    const f = statFields('self');
    return (Number(f[13]) + Number(f[14])) / CLK_TCK;
  };
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const before = children();
    const r = spawnSync('du', ['-sb', dir], { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`du -sb ${dir} exited with ${r.status}`);
    times.push(children() - before);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)] as number;
}

export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]) * 1024;
}

export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

export const mb = (b: number): string => `${(b / 1048576).toFixed(1)} MB`;
export const ms = (x: number): string => `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ms`;
