// A small leveled logger writing logfmt or JSON lines to stderr, as Prometheus exporters do.
// Values pass through redact() so a configured secret can never be printed, whatever the caller does.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'logfmt' | 'json';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
export const LOG_FORMATS: readonly LogFormat[] = ['logfmt', 'json'];

type Fields = Record<string, unknown>;

const secrets = new Set<string>();

/** Registers a secret value: every log line has it replaced by "<secret>". */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 1) secrets.add(value);
}

export function redact(text: string): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('<secret>');
  return out;
}

function logfmtValue(v: unknown): string {
  const s = v instanceof Error ? v.message : typeof v === 'string' ? v : JSON.stringify(v) ?? 'undefined';
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
}

export class Logger {
  private readonly min: number;
  constructor(
    readonly level: LogLevel = 'info',
    readonly format: LogFormat = 'logfmt',
    private readonly write: (line: string) => void = (line) => process.stderr.write(line),
  ) {
    this.min = LOG_LEVELS.indexOf(level);
  }

  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) >= this.min;
  }

  log(level: LogLevel, msg: string, fields: Fields = {}): void {
    if (!this.enabled(level)) return;
    const record: Fields = { ts: new Date().toISOString(), level, msg, ...fields };
    let line: string;
    if (this.format === 'json') {
      line = JSON.stringify(record, (_k, v: unknown) => (v instanceof Error ? v.message : v));
    } else {
      line = Object.entries(record)
        .map(([k, v]) => `${k}=${logfmtValue(v)}`)
        .join(' ');
    }
    this.write(redact(line) + '\n');
  }

  debug(msg: string, fields?: Fields): void {
    this.log('debug', msg, fields);
  }
  info(msg: string, fields?: Fields): void {
    this.log('info', msg, fields);
  }
  warn(msg: string, fields?: Fields): void {
    this.log('warn', msg, fields);
  }
  error(msg: string, fields?: Fields): void {
    this.log('error', msg, fields);
  }
}

/** A logger that drops everything, for library use and tests. */
export const silentLogger = new Logger('error', 'logfmt', () => undefined);
