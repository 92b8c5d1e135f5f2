// Typed errors. Thrown anywhere, caught in one place (main.ts), mapped to exit codes there.
// A user error prints one line (never a stack trace); anything else is a bug and prints the stack.

export const ExitCode = {
  ok: 0,
  /** audit found an anomaly at warning or above; also an unexpected internal failure */
  anomaly: 1,
  /** bad input: unknown flag, unreadable or invalid config, bad baseline file */
  usage: 2,
  /** the exporter could not start serving (address in use, TLS files unusable at listen) */
  serve: 3,
} as const;

export abstract class HostAuditError extends Error {
  abstract readonly exitCode: number;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** An unknown or malformed command-line flag. */
export class UsageError extends HostAuditError {
  readonly exitCode = ExitCode.usage;
}

/** A config file (or web config, password file, baseline) that cannot be read or is invalid. */
export class ConfigError extends HostAuditError {
  readonly exitCode = ExitCode.usage;
  constructor(
    readonly file: string,
    readonly key: string | undefined,
    readonly problem: string,
  ) {
    super(oneLine(`${file}${key ? `: ${key}` : ''}: ${problem}`));
  }
}

/**
 * The message as one line: a value from the file (a YAML scalar may fold a newline into a
 * path) or a path itself can carry control characters; they are written as escapes.
 */
function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** The HTTP server could not listen. */
export class ServeError extends HostAuditError {
  readonly exitCode = ExitCode.serve;
}

/**
 * Something the exporter watches failed (supervisord unreachable, a /proc read, a database).
 * Never fatal: collectors catch it and report the collector as failed.
 */
export class SourceError extends Error {
  constructor(
    readonly source: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${message}`, options);
    this.name = 'SourceError';
  }
}

/** A short, single-line description of any thrown value, safe for logs. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    const msg = err.message.split('\n')[0] ?? '';
    return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
  }
  return String(err);
}

/** An error of the file system (it has an errno code): the file's problem, not a bug. */
export function isFsError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && typeof (err as NodeJS.ErrnoException).errno === 'number';
}
