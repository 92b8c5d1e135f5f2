// A generated host the size of the audited one (or scaled up): a real supervisord running the
// audited services (and optionally N more via numprocs), a logs tree of many small files, the
// audit's SQLite databases, config files, a web interface on an ephemeral port, and the
// exporters' config files. Everything lives in one temporary directory.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { stringify } from 'yaml';
import { SupervisorClient } from '../../src/sources/supervisor.js';
import { PYTHON, Supervisord, type ProgramSpec } from '../../test/helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from '../../test/helpers/tmp.js';
import { AUDITED_SERVICES } from './services.js';

export interface HostSpec {
  /** Extra supervised processes (one program, numprocs). */
  workers: number;
  logFiles: number;
}

export const AUDITED: HostSpec = { workers: 0, logFiles: 10_000 };
export const SCALED: HostSpec = { workers: 500, logFiles: 100_000 };
/** 2,000 supervised processes: the audited twelve and 1,988 workers. */
export const LARGE: HostSpec = { workers: 1988, logFiles: 100_000 };

/** Workers started per XML-RPC multicall, so supervisord's loop turns between batches. */
const START_BATCH = 250;

/**
 * supervisord's [supervisord] limits for `programs` supervised processes. Each holds about five
 * of supervisord's descriptors (its stdin, stdout and stderr pipes, its two log files); a child
 * closes descriptors 3 to minfds before it execs, so minfds below supervisord's highest open
 * descriptor would leak the other children's pipes into the later ones. Each program here is
 * two processes (sh and its sleep).
 */
function supervisordLimits(programs: number): Record<string, string> {
  const minfds = Math.max(1024, programs * 6 + 512);
  const hard = hardLimit('Max open files');
  if (hard !== undefined && hard < minfds) {
    throw new Error(`${programs} supervised processes need minfds=${minfds}, but the open-files hard limit is ${hard} (raise it: ulimit -Hn)`);
  }
  const minprocs = Math.max(200, programs * 2 + 100);
  const hardProcs = hardLimit('Max processes');
  if (hardProcs !== undefined && hardProcs < minprocs) {
    throw new Error(`${programs} supervised processes need minprocs=${minprocs}, but the processes hard limit is ${hardProcs} (raise it: ulimit -Hu)`);
  }
  return { minfds: String(minfds), minprocs: String(minprocs) };
}

/** A hard limit from /proc/self/limits (undefined for "unlimited"). */
function hardLimit(name: string): number | undefined {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name));
  const hard = line?.slice(26).trim().split(/\s+/)[1];
  return hard === undefined || hard === 'unlimited' ? undefined : Number(hard);
}

/** The audit's databases (five named in the hand audit, six more to make its eleven). */
export const DATABASES: ReadonlyArray<readonly [string, number]> = [
  ['btc_price_history.db', 4_200_000],
  ['trades.db', 72_000],
  ['active_trades.db', 24_000],
  ['prod/fills.db', 784_000],
  ['prod/orders.db', 1_500_000],
  ['prod/positions.db', 120_000],
  ['prod/balances.db', 48_000],
  ['market_data.db', 256_000],
  ['signals.db', 96_000],
  ['risk_events.db', 32_000],
  ['watchdog.db', 16_000],
];

/** Marker in every supervised command line, so process-exporter can group by service. */
export const SVC_MARKER = 'hostaudit-bench-svc';

/** A two-process tree per service (sh and its sleeping child), named on the command line. */
function serviceCommand(name: string): string {
  return `/bin/sh -c 'while :; do sleep 3600; done' ${SVC_MARKER} ${name}`;
}

export class GeneratedHost {
  readonly root: string;
  sv!: Supervisord;
  web!: http.Server;
  webUrl = '';
  hostauditConfig = '';
  processExporterConfig = '';
  private constructor(readonly spec: HostSpec) {
    this.root = makeTmpDir('hostaudit-bench-');
  }

  static async create(spec: HostSpec, log: (s: string) => void = () => undefined): Promise<GeneratedHost> {
    const h = new GeneratedHost(spec);
    try {
      await h.setUp(log);
    } catch (err) {
      await h.destroy(); // never leave a supervisord with hundreds of processes behind
      throw err;
    }
    return h;
  }

  private async setUp(log: (s: string) => void): Promise<void> {
    const h = this; // eslint-disable-line @typescript-eslint/no-this-alias
    const spec = this.spec;
    const t0 = Date.now();
    h.makeFiles();
    log(`files: ${spec.logFiles} log files and ${DATABASES.length} databases in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    h.web = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n'));
    await new Promise<void>((r) => h.web.listen(0, '127.0.0.1', r));
    h.webUrl = `http://127.0.0.1:${(h.web.address() as AddressInfo).port}/health`;
    const t1 = Date.now();
    const programs: ProgramSpec[] = AUDITED_SERVICES.map((s) => ({ name: s.name, command: serviceCommand(s.name), options: { startsecs: '0' } }));
    // Three digits as before for up to 1,000 workers, four for the large host.
    const width = Math.max(3, String(spec.workers - 1).length);
    const num = `%(process_num)0${width}d`;
    if (spec.workers > 0) {
      programs.push({
        name: 'worker',
        command: serviceCommand(`worker_${num}`),
        options: {
          // Started after supervisord is up (below): 500 processes spawned at start keep it
          // too busy to answer the helper's readiness check in time.
          autostart: 'false',
          numprocs: String(spec.workers),
          process_name: `%(program_name)s_${num}`,
          startsecs: '0',
          stdout_logfile: path.join(h.root, 'supervisor-logs', `worker_${num}.out.log`),
          stderr_logfile: path.join(h.root, 'supervisor-logs', `worker_${num}.err.log`),
        },
      });
    }
    mkdirSync(path.join(h.root, 'supervisor-logs'));
    const expected = AUDITED_SERVICES.length + spec.workers;
    h.sv = await Supervisord.start({
      programs,
      groups: { kalshi: AUDITED_SERVICES.filter((s) => s.group === 'kalshi').map((s) => s.name) },
      supervisord: supervisordLimits(expected),
    });
    if (spec.workers > 0) {
      const client = new SupervisorClient({ urls: [h.sv.unixUrl], passwordFromEnv: false, timeoutMs: 120_000, pollIntervalMs: 1000 });
      const names = Array.from({ length: spec.workers }, (_, i) => `worker:worker_${String(i).padStart(width, '0')}`);
      for (let i = 0; i < names.length; i += START_BATCH) {
        const calls = names.slice(i, i + START_BATCH).map((n) => ({ methodName: 'supervisor.startProcess', params: [n, false] }));
        const results = await client.call('system.multicall', [calls]);
        // Each answer is true (or [true]); a fault is a struct.
        const ok = (r: unknown): boolean => r === true || (Array.isArray(r) && r[0] === true);
        const failed = Array.isArray(results) ? results.find((r) => !ok(r)) : results;
        if (failed !== undefined) throw new Error(`starting workers ${i}-${i + calls.length - 1}: ${JSON.stringify(failed)}`);
      }
    }
    await h.sv.waitFor((s) => s.size === expected && [...s.values()].every((p) => p.state === 'RUNNING'), 180_000);
    log(`supervisord: ${expected} processes RUNNING in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    h.writeConfigs();
  }

  private makeFiles(): void {
    const logs = path.join(this.root, 'srv', 'logs');
    const data = path.join(this.root, 'srv', 'data');
    const config = path.join(this.root, 'srv', 'config');
    mkdirSync(path.join(data, 'prod'), { recursive: true });
    mkdirSync(config, { recursive: true });
    writeFileSync(path.join(config, 'production.yaml'), 'mode: production\n');
    // Logs: 100 files per directory, sizes 0.5–8 KiB, modification times spread over two days.
    const now = Date.now() / 1000;
    const chunk = Buffer.alloc(8192, 'x');
    for (let i = 0; i < this.spec.logFiles; i++) {
      const d = path.join(logs, `d${String(Math.floor(i / 100)).padStart(4, '0')}`);
      if (i % 100 === 0) mkdirSync(d, { recursive: true });
      const f = path.join(d, `service-${i}.log`);
      writeFileSync(f, chunk.subarray(0, 512 + ((i * 7919) % 7680)));
      const t = now - ((i * 104729) % 172800);
      utimesSync(f, t, t);
    }
    // SQLite databases of roughly the audited sizes, two in WAL mode, made by Python's sqlite3.
    const script = `
import sqlite3, sys, os
root = sys.argv[1]
for spec in sys.argv[2:]:
    name, size = spec.rsplit(':', 1)
    p = os.path.join(root, name)
    c = sqlite3.connect(p)
    if name in ('btc_price_history.db', 'prod/orders.db'):
        c.execute('PRAGMA journal_mode=WAL')
    c.execute('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, ts REAL, v TEXT)')
    c.execute('CREATE INDEX IF NOT EXISTS t_ts ON t(ts)')
    c.execute('CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT)')
    rows = max(1, int(size) // 120)
    c.executemany('INSERT INTO t (ts, v) VALUES (?, ?)', ((i * 1.0, 'x' * 64) for i in range(rows)))
    c.commit()
    c.close()
`;
    const r = spawnSync(PYTHON, ['-c', script, data, ...DATABASES.map(([n, s]) => `${n}:${s}`)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`creating databases failed: ${r.stderr}`);
  }

  /** The outermost path the exporter is configured to scan (`system`; it holds the others). */
  get scanRoot(): string {
    return path.join(this.root, 'srv');
  }

  private writeConfigs(): void {
    const srv = path.join(this.root, 'srv');
    this.hostauditConfig = path.join(this.root, 'hostaudit.yml');
    writeFileSync(
      this.hostauditConfig,
      stringify({
        supervisor: { url: this.sv.unixUrl },
        paths: [
          { name: 'logs', path: path.join(srv, 'logs'), modified_within: ['10m', '1h'] },
          { name: 'data', path: path.join(srv, 'data') },
          { name: 'system', path: this.scanRoot },
        ],
        databases: [path.join(srv, 'data', '**', '*.db')],
        probes: [{ name: 'web', url: this.webUrl, timeout: '2s' }],
        critical_files: [path.join(srv, 'config', 'production.yaml')],
        process_names: ['python3', 'sleep'],
        scan_interval: '60s',
      }),
    );
    // process-exporter grouping the same processes: one group per supervised service, the
    // service's whole tree (its -children default attributes the sleeping child to it).
    this.processExporterConfig = path.join(this.root, 'process-exporter.yml');
    writeFileSync(
      this.processExporterConfig,
      stringify({ process_names: [{ name: '{{.Matches.svc}}', cmdline: [`${SVC_MARKER} (?P<svc>\\S+)`] }] }),
    );
  }

  async destroy(): Promise<void> {
    // supervisord's children lead their own process groups (it calls setpgrp for each). If it
    // is killed before it has stopped them all (the helper's SIGKILL after 10 s), they would
    // outlive the bench: note the groups first, kill what is left of them after.
    const groups = this.sv?.pid ? childrenOf(this.sv.pid) : [];
    if (groups.length > 100) {
      // On SIGTERM supervisord stops its groups one after another, which for thousands of
      // processes can outlast the helper's 10 s: stop them first, as long as that takes.
      const t0 = Date.now();
      const client = new SupervisorClient({ urls: [this.sv.unixUrl], passwordFromEnv: false, timeoutMs: 120_000, pollIntervalMs: 1000 });
      try {
        await client.call('supervisor.stopAllProcesses', [true]);
        process.stderr.write(`  … supervisord: ${groups.length} processes stopped in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      } catch (err) {
        process.stderr.write(`  … supervisord: stopping its processes failed (${String(err)}); killing what is left after it exits\n`);
      }
    }
    await this.sv?.cleanup();
    killGroupsLeft(groups);
    await new Promise<void>((r) => (this.web?.listening ? this.web.close(() => r()) : r()));
    removeTmpDir(this.root);
  }
}

/** Pids whose parent is `ppid`, from /proc. */
function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const st = procStat(Number(e));
    if (st?.ppid === ppid) out.push(Number(e));
  }
  return out;
}

function procStat(pid: number): { ppid: number; pgrp: number } | undefined {
  try {
    const t = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = t.slice(t.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), pgrp: Number(f[2]) };
  } catch {
    return undefined; // gone
  }
}

/**
 * SIGKILLs every process still in one of `groups` that is one of the bench's services (its sh,
 * with the marker on its command line, or the sh's sleep). A live process group's id is not
 * given to a new process, so a match is the bench's own.
 */
function killGroupsLeft(groups: readonly number[]): void {
  if (groups.length === 0) return;
  const wanted = new Set(groups);
  let killed = 0;
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    const st = procStat(pid);
    if (!st || !wanted.has(st.pgrp)) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
    } catch {
      continue;
    }
    if (!cmd.includes(SVC_MARKER) && !cmd.startsWith('sleep\0')) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed++;
    } catch {
      // exited meanwhile
    }
  }
  if (killed > 0) process.stderr.write(`  … supervisord left ${killed} processes behind; killed them\n`);
}
