// Starts a real supervisord (Debian's `supervisor` package) from a config the test writes
// into a temporary folder, and drives it with supervisorctl.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { makeTmpDir, removeTmpDir } from './tmp.js';

export interface ProgramSpec {
  /** [program:NAME] */
  name: string;
  command: string;
  /** Extra lines for the section, e.g. { autostart: 'false', numprocs: '2' }. */
  options?: Record<string, string>;
}

export interface SupervisordOptions {
  programs: ProgramSpec[];
  /** [group:NAME] programs=a,b */
  groups?: Record<string, string[]>;
  /** Also serve XML-RPC over TCP with these credentials. */
  inet?: { username: string; password: string };
  /** Protect the unix socket with these credentials. */
  unixAuth?: { username: string; password: string };
  /** Extra [supervisord] settings, e.g. { minfds: '16384', minprocs: '4096' } for thousands of programs. */
  supervisord?: Record<string, string>;
}

export const PYTHON = findPython();

function findPython(): string {
  for (const p of ['/usr/bin/python3', '/usr/local/bin/python3']) if (existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', 'command -v python3'], { encoding: 'utf8' });
  const found = r.stdout.trim();
  if (!found) throw new Error('python3 not found');
  return found;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * supervisords still running when the test process exits (a failed test skipped its cleanup):
 * SIGTERM makes each stop its programs and exit on its own, so nothing is left behind.
 */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGTERM');
});

export class Supervisord {
  readonly dir: string;
  readonly socket: string;
  readonly confFile: string;
  readonly logDir: string;
  inetPort: number | undefined;
  private child: ChildProcess | undefined;

  private constructor(readonly opts: SupervisordOptions) {
    this.dir = makeTmpDir('hostaudit-sv-');
    this.socket = path.join(this.dir, 'supervisor.sock');
    this.confFile = path.join(this.dir, 'supervisord.conf');
    this.logDir = path.join(this.dir, 'logs');
    mkdirSync(this.logDir);
  }

  static async start(opts: SupervisordOptions): Promise<Supervisord> {
    const s = new Supervisord(opts);
    if (opts.inet) s.inetPort = await freePort();
    s.writeConfig();
    await s.launch();
    return s;
  }

  get unixUrl(): string {
    return `unix://${this.socket}`;
  }

  get httpUrl(): string {
    if (!this.inetPort) throw new Error('no inet_http_server configured');
    return `http://127.0.0.1:${this.inetPort}/RPC2`;
  }

  private writeConfig(): void {
    const o = this.opts;
    const lines: string[] = [
      '[unix_http_server]',
      `file=${this.socket}`,
      'chmod=0700',
      ...(o.unixAuth ? [`username=${o.unixAuth.username}`, `password=${o.unixAuth.password}`] : []),
      '',
      '[supervisord]',
      `logfile=${path.join(this.dir, 'supervisord.log')}`,
      `pidfile=${path.join(this.dir, 'supervisord.pid')}`,
      `childlogdir=${this.logDir}`,
      'nodaemon=true',
      'loglevel=info',
      `identifier=test-${path.basename(this.dir)}`,
      ...Object.entries(o.supervisord ?? {}).map(([k, v]) => `${k}=${v}`),
      '',
      '[rpcinterface:supervisor]',
      'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface',
      '',
      '[supervisorctl]',
      `serverurl=unix://${this.socket}`,
      ...(o.unixAuth ? [`username=${o.unixAuth.username}`, `password=${o.unixAuth.password}`] : []),
      '',
    ];
    if (o.inet && this.inetPort) {
      lines.push('[inet_http_server]', `port=127.0.0.1:${this.inetPort}`, `username=${o.inet.username}`, `password=${o.inet.password}`, '');
    }
    for (const p of o.programs) {
      const opts: Record<string, string> = {
        command: p.command,
        autorestart: 'false',
        startsecs: '1',
        stdout_logfile: path.join(this.logDir, `${p.name}.out.log`),
        stderr_logfile: path.join(this.logDir, `${p.name}.err.log`),
        stopwaitsecs: '2',
        stopasgroup: 'true',
        killasgroup: 'true',
        ...p.options,
      };
      if (opts.numprocs && opts.numprocs !== '1' && !opts.process_name) {
        opts.process_name = '%(program_name)s_%(process_num)02d';
        opts.stdout_logfile = path.join(this.logDir, `${p.name}_%(process_num)02d.out.log`);
        opts.stderr_logfile = path.join(this.logDir, `${p.name}_%(process_num)02d.err.log`);
      }
      lines.push(`[program:${p.name}]`, ...Object.entries(opts).map(([k, v]) => `${k}=${v}`), '');
    }
    for (const [g, programs] of Object.entries(o.groups ?? {})) {
      lines.push(`[group:${g}]`, `programs=${programs.join(',')}`, '');
    }
    writeFileSync(this.confFile, lines.join('\n'));
  }

  /** Starts supervisord (again, after stop()) and waits until it answers. */
  async launch(): Promise<void> {
    const child = spawn('supervisord', ['-n', '-c', this.confFile], { stdio: 'ignore' });
    this.child = child;
    running.add(child);
    child.once('exit', () => running.delete(child));
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`supervisord exited with ${child.exitCode}`);
      const r = this.ctlRaw(['pid']);
      if (r.status === 0 && /^\d+$/.test(r.stdout.trim())) return;
      await sleep(100);
    }
    child.kill('SIGTERM');
    throw new Error('supervisord did not come up within 15 s');
  }

  private ctlRaw(args: string[]): { status: number | null; stdout: string } {
    const r = spawnSync('supervisorctl', ['-c', this.confFile, ...args], { encoding: 'utf8', timeout: 15_000 });
    return { status: r.status, stdout: r.stdout };
  }

  /** Runs supervisorctl; returns stdout (its exit status is non-zero for non-RUNNING states, so not checked). */
  ctl(...args: string[]): string {
    return this.ctlRaw(args).stdout;
  }

  /** `supervisorctl status` parsed: "group:name" or "name" → state. */
  status(): Map<string, { state: string; pid?: number }> {
    const out = new Map<string, { state: string; pid?: number }>();
    for (const line of this.ctl('status').split('\n')) {
      const m = /^(\S+)\s+([A-Z]+)\s*(?:pid (\d+))?/.exec(line);
      if (m) out.set(m[1] as string, { state: m[2] as string, ...(m[3] ? { pid: Number(m[3]) } : {}) });
    }
    return out;
  }

  /** Waits until `pred` holds for the status table. */
  async waitFor(pred: (s: Map<string, { state: string; pid?: number }>) => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (pred(this.status())) return;
      await sleep(200);
    }
    throw new Error(`supervisord status did not reach the expected state: ${JSON.stringify([...this.status()])}`);
  }

  /** Stops supervisord (SIGTERM; it stops its programs) and waits for it to exit. */
  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** Kills supervisord hard (its children are orphaned; the test cleans them via stopasgroup on next stop). */
  kill(): void {
    this.child?.kill('SIGKILL');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async cleanup(): Promise<void> {
    await this.stop();
    removeTmpDir(this.dir);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const FIXTURES = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'fixtures', 'programs');

/** `command=` values for the test programs in test/fixtures/programs. */
export const programs = {
  /** Burns `share` of one core; with `childShare`, forks a child burning that too. */
  burn(share: number, childShare?: number): string {
    return `${PYTHON} ${FIXTURES}/burn.py ${share}${childShare === undefined ? '' : ` ${childShare}`}`;
  },
  holdMemory(megabytes: number): string {
    return `${PYTHON} ${FIXTURES}/hold_memory.py ${megabytes}`;
  },
  exitAfter(seconds: number, code: number): string {
    return `${PYTHON} ${FIXTURES}/exit_after.py ${seconds} ${code}`;
  },
  sleep(tcpPort?: number, connections?: number): string {
    return `${PYTHON} ${FIXTURES}/sleep.py${tcpPort ? ` ${tcpPort} ${connections ?? 1}` : ''}`;
  },
};
