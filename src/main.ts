#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=1 --heap-growing-percent=30
// How the exporter is started, measured on the audited host (docs/performance.md, "Scrape cost and scale"):
// - --max-semi-space-size=1 keeps V8's young generation at 1 MB semi-spaces instead of letting
//   it grow to 16 MB under sustained scrapes: at 10 scrapes/s, 123 MB of RSS without it, 83 MB
//   with it, for 2.5 % more CPU per collection (--optimize-for-size saved 7 MB more but cost
//   59 % more CPU at 500 processes).
// - --heap-growing-percent=30 lets the old generation grow by 30 % between major GCs instead
//   of V8's dynamic factor (up to 4x when GC is fast): 50 clients for 60 s took RSS to 105 MB
//   without it, 77 MB with it, at the same throughput and CPU per scrape.
// - MALLOC_ARENA_MAX=2: glibc otherwise gives each of V8's and libuv's threads a malloc arena
//   of its own, which keeps freed memory; 2 MB less RSS under load in each of 2 paired runs.
// These must be given at start; `npm start`, the Dockerfile and the benchmark start the
// exporter the same way (a test checks they agree with this line).
// CLI entry point: parse flags, load config, serve or audit. The one top-level catch that
// maps typed errors to exit codes lives here.
import { existsSync } from 'node:fs';
import { parseCli, USAGE, type CliOptions } from './cli.js';
import { defaultConfig, loadConfigFile, readSupervisorPassword, type Config } from './config.js';
import { ExitCode, HostAuditError, describeError } from './errors.js';
import { Logger, redact, registerSecret } from './log.js';
import { startExporter } from './serve.js';
import { exporterVersion } from './version.js';

const DEFAULT_CONFIG_FILE = 'hostaudit.yml';

export function loadConfig(file: string | undefined): Config {
  if (file !== undefined) return loadConfigFile(file);
  if (existsSync(DEFAULT_CONFIG_FILE)) return loadConfigFile(DEFAULT_CONFIG_FILE);
  return defaultConfig();
}

async function run(opts: CliOptions): Promise<number> {
  if (opts.command === 'help') {
    process.stdout.write(USAGE);
    return ExitCode.ok;
  }
  if (opts.command === 'version') {
    process.stdout.write(`hostaudit-exporter ${exporterVersion()} (node ${process.version})\n`);
    return ExitCode.ok;
  }
  if (opts.command === 'check') {
    const { runConfigCheck } = await import('./config-check.js');
    return runConfigCheck(opts, loadConfig);
  }
  const config = loadConfig(opts.configFile);
  // Whatever prints later, the password is replaced before it reaches stderr.
  registerSecret(readSupervisorPassword(config.supervisor));
  const log = new Logger(opts.logLevel, opts.logFormat);

  if (opts.command === 'audit') {
    const { runAuditCommand } = await import('./report/audit-command.js');
    return runAuditCommand(opts, config, log);
  }
  if (opts.command === 'generate') {
    const { runGenerateCommand } = await import('./generate-command.js');
    return runGenerateCommand(opts, config);
  }
  if (opts.command === 'init') {
    const { runInitCommand } = await import('./init/init-command.js');
    return runInitCommand(opts, config, log);
  }

  const exporter = await startExporter(opts, config, log, () => loadConfig(opts.configFile));
  // SIGHUP re-reads the config files, as Prometheus and its exporters do (it would kill the process otherwise).
  process.on('SIGHUP', () => void exporter.reload());
  return new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      log.info('shutting down', { signal });
      exporter.close().then(
        () => resolve(ExitCode.ok),
        () => resolve(ExitCode.ok),
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
}

async function main(): Promise<void> {
  let code: number;
  try {
    code = await run(parseCli(process.argv.slice(2)));
  } catch (err) {
    if (err instanceof HostAuditError) {
      process.stderr.write(redact(`hostaudit-exporter: error: ${err.message}`) + '\n');
      code = err.exitCode;
    } else {
      // Not a user error: a bug. The stack helps whoever reports it.
      process.stderr.write(redact(`hostaudit-exporter: internal error: ${describeError(err)}\n${(err as Error)?.stack ?? ''}`) + '\n');
      code = ExitCode.anomaly;
    }
  }
  process.exitCode = code;
  // Background timers are unref'd; sockets are closed. Exit promptly regardless.
  setTimeout(() => process.exit(code), 100).unref();
}

void main();
