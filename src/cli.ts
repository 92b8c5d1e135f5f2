// Command-line parsing, in the Prometheus exporters' flag style (--config.file=FILE).
// Pure: argv in, typed options out, UsageError for anything wrong.
import { parseArgs } from 'node:util';
import { parseDuration } from './duration.js';
import { UsageError } from './errors.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './log.js';
import { collectorNames } from './collectors/index.js';

export interface CommonOptions {
  configFile?: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** --no-collector.NAME flags: collectors switched off (present only when one is given). */
  disabledCollectors?: string[];
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
  format: 'markdown' | 'json' | 'html';
  sampleMs: number;
}

/** --config.check: validate the config and web config, start nothing. */
export interface CheckOptions extends CommonOptions {
  command: 'check';
  webConfigFile?: string;
}

export interface GenerateOptions extends CommonOptions {
  command: 'generate';
  outDir: string;
}

export interface InitOptions extends CommonOptions {
  command: 'init';
  supervisorUrl?: string;
  outFile?: string;
}

export type CliOptions =
  | ServeOptions
  | AuditOptions
  | CheckOptions
  | GenerateOptions
  | InitOptions
  | { command: 'help' }
  | { command: 'version' };

export const USAGE = `usage: hostaudit-exporter [flags]            serve metrics
       hostaudit-exporter audit [flags]      write a one-shot audit report
       hostaudit-exporter init [--supervisor.url=URL] [--out=FILE]
                                             print a config for what supervisord runs here
       hostaudit-exporter generate [--config.file=FILE] --out=DIR
                                             write alert rules and dashboards with the config's thresholds
       hostaudit-exporter --config.check [--config.file=FILE] [--web.config.file=FILE]
                                             validate the config files, print "config OK", exit

flags:
  --config.file=FILE          YAML config (default ./hostaudit.yml if present, else built-in defaults)
  --web.listen-address=ADDR   address to listen on (default :9863)
  --web.telemetry-path=PATH   path for metrics (default /metrics)
  --web.config.file=FILE      TLS and basic auth (exporter-toolkit web-config.yml format)
  --log.level=LEVEL           debug, info, warn or error (default info)
  --log.format=FORMAT         logfmt or json (default logfmt)
  --no-collector.NAME         switch collector NAME off (serve and audit; NAME: ${collectorNames().join(', ')})
  --path.procfs=DIR           procfs mount point (default /proc)
  --version                   print the version and exit
  --help                      print this help and exit

audit flags:
  --format=FORMAT             markdown, json or html (default markdown)
  --sample=DURATION           window over which CPU is measured (default 5s)
  --baseline=FILE             an earlier --format=json report to compare with

init flags:
  --supervisor.url=URL        supervisord to ask (default: the config's, else the usual sockets)
  --out=FILE                  write the config to FILE (refused if it exists) instead of stdout

generate flags:
  --out=DIR                   writes DIR/hostaudit.rules.yml and DIR/dashboards/*.json
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
  'config.check': { type: 'boolean' },
} as const;

const AUDIT = {
  ...COMMON,
  baseline: { type: 'string' },
  format: { type: 'string' },
  sample: { type: 'string' },
} as const;

const INIT = {
  ...COMMON,
  'supervisor.url': { type: 'string' },
  out: { type: 'string' },
} as const;

const GENERATE = {
  ...COMMON,
  out: { type: 'string' },
} as const;

const SUBCOMMANDS = { audit: AUDIT, init: INIT, generate: GENERATE } as const;
type Subcommand = keyof typeof SUBCOMMANDS;

/** Takes the --no-collector.NAME flags out of argv (parseArgs knows no such family of flags). */
function takeDisabledCollectors(args: string[]): string[] {
  const names = collectorNames();
  const disabled: string[] = [];
  for (let i = args.length - 1; i >= 0; i--) {
    const m = /^--no-collector\.(.*)$/.exec(args[i] as string);
    if (!m) continue;
    const name = m[1] as string;
    if (!names.includes(name)) {
      throw new UsageError(`--no-collector.${name}: unknown collector ${JSON.stringify(name)} (collectors: ${names.join(', ')})`);
    }
    disabled.unshift(name);
    args.splice(i, 1);
  }
  return [...new Set(disabled)];
}

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
  const sub = Object.hasOwn(SUBCOMMANDS, argv[0] ?? '') ? (argv[0] as Subcommand) : undefined;
  const command = sub ?? 'serve';
  const args = sub ? argv.slice(1) : [...argv];
  const disabled = command === 'serve' || command === 'audit' ? takeDisabledCollectors(args) : [];
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    const parsed = parseArgs({
      args: [...args],
      options: (sub ? SUBCOMMANDS[sub] : SERVE) as Record<string, { type: 'string' | 'boolean'; short?: string }>,
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
    ...(disabled.length > 0 ? { disabledCollectors: disabled } : {}),
    procfs: procfsFlag(values['path.procfs'] as string | undefined),
  };
  if (command === 'init') {
    return {
      command,
      ...common,
      supervisorUrl: nonEmpty('supervisor.url', values['supervisor.url'] as string | undefined),
      outFile: nonEmpty('out', values.out as string | undefined),
    };
  }
  if (command === 'generate') {
    const outDir = nonEmpty('out', values.out as string | undefined);
    if (outDir === undefined) throw new UsageError('generate: --out=DIR is required (see --help)');
    return { command, ...common, outDir };
  }
  if (values['config.check']) {
    return { command: 'check', ...common, webConfigFile: nonEmpty('web.config.file', values['web.config.file'] as string | undefined) };
  }
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
      format: oneOf('format', values.format as string | undefined, ['markdown', 'json', 'html'] as const, 'markdown'),
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
