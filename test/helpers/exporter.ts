// Runs the real exporter as a child process (src/main.ts through tsx, so tests always run the
// current source) with a config written by the test, on an ephemeral port.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { parseMetrics, type ParsedSample } from './metrics.js';
import { makeTmpDir, removeTmpDir } from './tmp.js';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
export const MAIN = path.join(ROOT, 'src', 'main.ts');

/** argv that runs the exporter CLI: `node --import tsx src/main.ts ...args`. */
export function exporterArgv(args: string[]): string[] {
  // tsx resolved here, by URL, so the child may run with any working directory.
  return ['--import', TSX_LOADER, MAIN, ...args];
}
const TSX_LOADER = import.meta.resolve('tsx');

export interface ExporterOptions {
  /** The config as an object (written as YAML), or undefined for no --config.file. */
  config?: unknown;
  /** Extra flags. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** A command the exporter runs under, e.g. ['prlimit', '--nofile=256:256', '--'] (it must exec, keeping the pid). */
  wrap?: string[];
}

/** Every exporter child still running; killed when the test process exits, whatever happened. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export class Exporter {
  output = '';
  url = '';
  private constructor(
    readonly child: ChildProcess,
    readonly dir: string,
  ) {}

  static async start(opts: ExporterOptions = {}): Promise<Exporter> {
    const dir = makeTmpDir('hostaudit-exp-');
    const args = ['--web.listen-address=127.0.0.1:0', '--log.level=debug', ...(opts.args ?? [])];
    if (opts.config !== undefined) {
      const file = path.join(dir, 'hostaudit.yml');
      writeFileSync(file, stringify(opts.config));
      args.push(`--config.file=${file}`);
    }
    const argv = [process.execPath, ...exporterArgv(args)];
    if (opts.wrap) argv.unshift(...opts.wrap);
    const child = spawn(argv[0] as string, argv.slice(1), {
      cwd: opts.cwd ?? dir,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const e = new Exporter(child, dir);
    live.add(child);
    child.once('exit', () => live.delete(child));
    const onData = (d: Buffer): void => {
      e.output += d.toString();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Never leave it behind: a live child would keep the test process from exiting.
        child.kill('SIGKILL');
        reject(new Error(`exporter did not start within 60 s:\n${e.output}`));
      }, 60_000);
      const check = (): void => {
        const m = /msg=listening address=(\S+?):(\d+)\b/.exec(e.output);
        if (m) {
          clearTimeout(timer);
          e.url = `http://127.0.0.1:${m[2]}`;
          resolve();
        }
      };
      child.stderr?.on('data', check);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`exporter exited with ${code}:\n${e.output}`));
      });
    });
    return e;
  }

  async get(pathname = '/metrics', init: RequestInit = {}): Promise<Response> {
    return fetch(this.url + pathname, init);
  }

  async metricsText(): Promise<string> {
    const res = await this.get('/metrics');
    if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
    return res.text();
  }

  async scrape(): Promise<ParsedSample[]> {
    return parseMetrics(await this.metricsText());
  }

  /** SIGTERM and wait; resolves with the exit code. */
  async stop(): Promise<number | null> {
    const c = this.child;
    if (c.exitCode !== null || c.signalCode !== null) return c.exitCode;
    const exited = new Promise<number | null>((resolve) => c.once('exit', (code) => resolve(code)));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 5000);
    const code = await exited;
    clearTimeout(t);
    return code;
  }

  async cleanup(): Promise<void> {
    await this.stop();
    removeTmpDir(this.dir);
  }
}

/** Runs the CLI to completion (e.g. `audit`, or a bad flag); returns code and output. */
export async function runCli(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, exporterArgv(args), {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}
