// Command-line parsing, in the Prometheus exporters' flag style (--config.file=FILE).
// Pure: argv in, typed options out, UsageError for anything wrong.
import { parseArgs } from 'node:util';
import { parseDuration } from './duration.js';
import { UsageError } from './errors.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './log.js';

export interface CommonOptions {
  configFile?: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** --path.procfs: where the host's procfs is mounted (default /proc). */
  procfs: string;
}

export interface ServeOptions extends CommonOptions {
  command: 'serve';
  listenAddress: string;
  telemetryPath: string;
  webConfigFile?: string;
}

export interface AuditOptions extends CommonOptions {
  command: 'audit';
  baselineFile?: string;
  format: 'markdown' | 'json';
  sampleMs: number;
}

export type CliOptions = ServeOptions | AuditOptions | { command: 'help' } | { command: 'version' };

export const USAGE = `usage: hostaudit-exporter [flags]            serve metrics
       hostaudit-exporter audit [flags]      write a one-shot audit report

flags:
  --config.file=FILE          YAML config (default ./hostaudit.yml if present, else built-in defaults)
  --web.listen-address=ADDR   address to listen on (default :9863)
  --web.telemetry-path=PATH   path for metrics (default /metrics)
  --web.config.file=FILE      TLS and basic auth (exporter-toolkit web-config.yml format)
  --log.level=LEVEL           debug, info, warn or error (default info)
  --log.format=FORMAT         logfmt or json (default logfmt)
  --path.procfs=DIR           procfs mount point (default /proc)
  --version                   print the version and exit
  --help                      print this help and exit

audit flags:
  --format=FORMAT             markdown or json (default markdown)
  --sample=DURATION           window over which CPU is measured (default 5s)
  --baseline=FILE             an earlier --format=json report to compare with
`;

const COMMON = {
  'config.file': { type: 'string' },
  'log.level': { type: 'string' },
  'log.format': { type: 'string' },
  'path.procfs': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

const SERVE = {
  ...COMMON,
  'web.listen-address': { type: 'string' },
  'web.telemetry-path': { type: 'string' },
  'web.config.file': { type: 'string' },
} as const;

const AUDIT = {
  ...COMMON,
  baseline: { type: 'string' },
  format: { type: 'string' },
  sample: { type: 'string' },
} as const;

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], dflt: T): T {
  if (value === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${flag}: must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

function nonEmpty(flag: string, v: string | undefined): string | undefined {
  if (v === '') throw new UsageError(`--${flag}: must not be empty`);
  return v;
}

export function parseCli(argv: readonly string[]): CliOptions {
  const command = argv[0] === 'audit' ? 'audit' : 'serve';
  const args = command === 'audit' ? argv.slice(1) : [...argv];
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    const parsed = parseArgs({
      args: [...args],
      options: (command === 'audit' ? AUDIT : SERVE) as Record<string, { type: 'string' | 'boolean'; short?: string }>,
      strict: true,
      allowPositionals: true,
    });
    values = parsed.values as Record<string, string | boolean | undefined>;
    positionals = parsed.positionals;
  } catch (err) {
    // Node's messages are multi-line and mention internals; keep the first sentence.
    const msg = (err as Error).message.split('\n')[0]?.replace(/\. To specify a positional.*$/, '') ?? 'bad flag';
    throw new UsageError(`${msg} (see --help)`);
  }
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])} (see --help)`);
  }
  if (values.help) return { command: 'help' };
  if (values.version) return { command: 'version' };

  const common: CommonOptions = {
    configFile: nonEmpty('config.file', values['config.file'] as string | undefined),
    logLevel: oneOf('log.level', values['log.level'] as string | undefined, LOG_LEVELS, 'info'),
    logFormat: oneOf('log.format', values['log.format'] as string | undefined, LOG_FORMATS, 'logfmt'),
    procfs: procfsFlag(values['path.procfs'] as string | undefined),
  };
  if (command === 'audit') {
    const sample = (values.sample as string | undefined) ?? '5s';
    const sampleMs = parseDuration(sample);
    if (sampleMs === undefined || sampleMs <= 0) {
      throw new UsageError(`--sample: must be a duration like 5s, got ${JSON.stringify(sample)}`);
    }
    return {
      command,
      ...common,
      baselineFile: nonEmpty('baseline', values.baseline as string | undefined),
      format: oneOf('format', values.format as string | undefined, ['markdown', 'json'] as const, 'markdown'),
      sampleMs,
    };
  }
  const telemetryPath = (values['web.telemetry-path'] as string | undefined) ?? '/metrics';
  if (!telemetryPath.startsWith('/') || telemetryPath === '/' || telemetryPath.startsWith('/-/')) {
    throw new UsageError(`--web.telemetry-path: must start with / and not be / or under /-/, got ${JSON.stringify(telemetryPath)}`);
  }
  const listenAddress = (values['web.listen-address'] as string | undefined) ?? ':9863';
  parseListenAddress(listenAddress);
  return {
    command,
    ...common,
    listenAddress,
    telemetryPath,
    webConfigFile: nonEmpty('web.config.file', values['web.config.file'] as string | undefined),
  };
}

/** ":9863" → all interfaces; "127.0.0.1:9863"; "[::1]:9863". */
export function parseListenAddress(addr: string): { host?: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new UsageError(`--web.listen-address: must be [host]:port like :9863 or 127.0.0.1:9863, got ${JSON.stringify(addr)}`);
  }
  const host = m[1] ?? (m[2] || undefined);
  return host === undefined ? { port } : { host, port };
}

/** --path.procfs: an absolute directory, without a trailing slash (paths are joined to it). */
function procfsFlag(v: string | undefined): string {
  if (v === undefined) return '/proc';
  if (!v.startsWith('/')) throw new UsageError(`--path.procfs: must be an absolute path, got ${JSON.stringify(v)}`);
  return v.length > 1 ? v.replace(/\/+$/, '') : v;
}
