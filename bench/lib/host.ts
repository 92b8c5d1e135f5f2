// A generated host the size of the audited one (or scaled up): a real supervisord running the
// audited services (and optionally N more via numprocs), a logs tree of many small files, the
// audit's SQLite databases, config files, a web interface on an ephemeral port, and the
// exporters' config files. Everything lives in one temporary directory.
import { spawnSync } from 'node:child_process';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
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
    if (spec.workers > 0) {
      programs.push({
        name: 'worker',
        command: serviceCommand('worker_%(process_num)03d'),
        options: {
          // Started after supervisord is up (below): 500 processes spawned at start keep it
          // too busy to answer the helper's readiness check in time.
          autostart: 'false',
          numprocs: String(spec.workers),
          process_name: '%(program_name)s_%(process_num)03d',
          startsecs: '0',
          stdout_logfile: path.join(h.root, 'supervisor-logs', 'worker_%(process_num)03d.out.log'),
          stderr_logfile: path.join(h.root, 'supervisor-logs', 'worker_%(process_num)03d.err.log'),
        },
      });
    }
    mkdirSync(path.join(h.root, 'supervisor-logs'));
    h.sv = await Supervisord.start({
      programs,
      groups: { kalshi: AUDITED_SERVICES.filter((s) => s.group === 'kalshi').map((s) => s.name) },
    });
    if (spec.workers > 0) {
      const client = new SupervisorClient({ urls: [h.sv.unixUrl], passwordFromEnv: false, timeoutMs: 120_000, pollIntervalMs: 1000 });
      await client.call('supervisor.startProcessGroup', ['worker', false]);
    }
    const expected = AUDITED_SERVICES.length + spec.workers;
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
    await this.sv?.cleanup();
    await new Promise<void>((r) => (this.web?.listening ? this.web.close(() => r()) : r()));
    removeTmpDir(this.root);
  }
}
